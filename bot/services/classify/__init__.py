"""Feedback classifier: a category and a sentiment for any free text a parent, a teacher or a
resident sends (questions, suggestions, replies, reports' notes).

Logistic regression over words, word pairs and cue phrases (`lexicon`), trained at first use
from the training split of content/feedback/dataset.jsonl (under a second; the same data gives
the same model). Text is folded and chat shorthand expanded first, so "không được" and
"ko dc" are the same words. Why this method and its figures: docs/feedback.md.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Final

from bot.services.classify.dataset import Item, load
from bot.services.classify.features import features
from bot.services.classify.lexicon import cues
from bot.services.classify.model import LogisticRegression

CATEGORIES: Final = ("question", "suggestion", "complaint", "thanks", "misinformation", "other")
SENTIMENTS: Final = ("positive", "neutral", "negative")
CUE_WEIGHT: Final = 3  # a cue counts as this many features; chosen by cross-validation
EPOCHS: Final = 10


@dataclass(frozen=True)
class Label:
    category: str
    sentiment: str


def featurizer(
    *, pairs: bool = True, chars: tuple[int, ...] = (), cue_weight: int = CUE_WEIGHT
) -> Callable[[str], list[str]]:
    """Text → features: `features.features` plus each cue (`lexicon.cues`) `cue_weight` times.
    The defaults are the shipped model's; `evaluate.compare` measures the others."""

    def featurize(text: str) -> list[str]:
        found = [f"{cue}#{k}" for cue in cues(text) for k in range(cue_weight)]
        return features(text, pairs=pairs, chars=chars) + found

    return featurize


model_features = featurizer()


class Classifier:
    def __init__(self, category: LogisticRegression, sentiment: LogisticRegression) -> None:
        self._category, self._sentiment = category, sentiment

    @classmethod
    def train(cls, items: Iterable[Item]) -> Classifier:
        items = list(items)
        texts = [i.text for i in items]
        return cls(
            LogisticRegression(model_features, EPOCHS).fit(texts, [i.category for i in items]),
            LogisticRegression(model_features, EPOCHS).fit(texts, [i.sentiment for i in items]),
        )

    def classify(self, text: str) -> Label:
        return Label(self._category.predict(text), self._sentiment.predict(text))


@functools.cache
def default() -> Classifier:
    """The classifier trained on the shipped training split (never on the held-out test)."""
    return Classifier.train(i for i in load() if i.split == "train")


def classify(text: str) -> Label:
    return default().classify(text)
