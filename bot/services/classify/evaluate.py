"""Held-out figures of the feedback classifier: per-class precision and recall, macro-F1 for
category and sentiment, and the gap between texts with diacritics and the same texts as chat
has them (no diacritics, shorthand). `loa feedback evaluate` prints them."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, Final

from bot.services.classify import CATEGORIES, EPOCHS, SENTIMENTS, Classifier, Label, featurizer
from bot.services.classify.dataset import Item, load
from bot.services.classify.lexicon import rule_category, rule_sentiment
from bot.services.classify.model import LogisticRegression, NaiveBayes
from bot.text import fold

Predict = Callable[[str], Label]
TARGET_F1 = 0.75
TARGET_GAP = 0.05


def per_class(
    gold: Sequence[str], predicted: Sequence[str], labels: Sequence[str]
) -> dict[str, Any]:
    classes: dict[str, dict[str, float]] = {}
    for label in labels:
        tp = sum(1 for g, p in zip(gold, predicted, strict=True) if g == p == label)
        said = sum(1 for p in predicted if p == label)
        real = sum(1 for g in gold if g == label)
        precision = tp / said if said else 0.0
        recall = tp / real if real else 0.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        classes[label] = {
            "precision": round(precision, 3),
            "recall": round(recall, 3),
            "f1": round(f1, 3),
            "support": real,
        }
    present = [c for label, c in classes.items() if c["support"]]
    macro = sum(c["f1"] for c in present) / len(present) if present else 0.0
    return {"macro_f1": round(macro, 3), "classes": classes}


def _scores(items: Sequence[Item], texts: Sequence[str], predict: Predict) -> dict[str, Any]:
    labels = [predict(t) for t in texts]
    return {
        "category": per_class(
            [i.category for i in items], [x.category for x in labels], CATEGORIES
        ),
        "sentiment": per_class(
            [i.sentiment for i in items], [x.sentiment for x in labels], SENTIMENTS
        ),
    }


def chat_forms(test: Sequence[Item]) -> tuple[list[Item], list[str]]:
    """The held-out items written with diacritics, and each one as chat has it: its stripped
    copy from the set where there is one (no diacritics, shorthand), else the folded text."""
    copies = {i.group: i.text for i in test if i.variant == "stripped"}
    formal = [i for i in test if i.variant == "original" and fold(i.text) != i.text.lower()]
    return formal, [copies.get(i.group, fold(i.text)) for i in formal]


def evaluate(method: str = "model", items: Sequence[Item] | None = None) -> dict[str, Any]:
    items = list(items if items is not None else load())
    train = [i for i in items if i.split == "train"]
    test = [i for i in items if i.split == "test"]
    if method == "rules":
        predict: Predict = lambda t: Label(rule_category(t), rule_sentiment(t))  # noqa: E731
    else:
        predict = Classifier.train(train).classify
    held_out = _scores(test, [i.text for i in test], predict)
    formal, chat = chat_forms(test)
    with_marks = _scores(formal, [i.text for i in formal], predict)
    without = _scores(formal, chat, predict)
    gap = {
        key: round(abs(with_marks[key]["macro_f1"] - without[key]["macro_f1"]), 3)
        for key in ("category", "sentiment")
    }
    return {
        "method": method,
        "train_items": len(train),
        "test_items": len(test),
        "test": held_out,
        "diacritics": {
            "pairs": len(formal),
            "with": {k: with_marks[k]["macro_f1"] for k in with_marks},
            "without": {k: without[k]["macro_f1"] for k in without},
            "gap": gap,
        },
        "meets_targets": all(held_out[k]["macro_f1"] >= TARGET_F1 for k in held_out)
        and all(g <= TARGET_GAP for g in gap.values()),
    }


def render(report: dict[str, Any]) -> str:
    """The report as a short table for a terminal."""
    lines = [
        f"method {report['method']}: trained on {report['train_items']} items, "
        f"held-out test {report['test_items']} items"
    ]
    for key in ("category", "sentiment"):
        scores = report["test"][key]
        lines.append(f"{key}: macro-F1 {scores['macro_f1']:.3f}")
        for label, c in scores["classes"].items():
            lines.append(
                f"  {label:<15} precision {c['precision']:.3f}  recall {c['recall']:.3f}  "
                f"n={c['support']}"
            )
    d = report["diacritics"]
    for key in ("category", "sentiment"):
        lines.append(
            f"{key} with diacritics {d['with'][key]:.3f}, without {d['without'][key]:.3f}: "
            f"gap {d['gap'][key]:.3f} ({d['pairs']} pairs)"
        )
    lines.append(
        f"targets (macro-F1 >= {TARGET_F1}, gap <= {TARGET_GAP}): "
        + ("met" if report["meets_targets"] else "NOT met")
    )
    return "\n".join(lines)


Model = NaiveBayes | LogisticRegression
# The candidates `loa feedback evaluate --compare` measures: a name and a model factory.
CANDIDATES: Final[tuple[tuple[str, Callable[[], Model]], ...]] = (
    ("naive Bayes, words", lambda: NaiveBayes(featurizer(pairs=False, cue_weight=0))),
    ("naive Bayes, words + pairs", lambda: NaiveBayes(featurizer(cue_weight=0))),
    ("naive Bayes, + char 3-grams", lambda: NaiveBayes(featurizer(chars=(3,), cue_weight=0))),
    ("naive Bayes, + char 3-4-grams", lambda: NaiveBayes(featurizer(chars=(3, 4), cue_weight=0))),
    (
        "logistic regression, + char 3-4-grams",
        lambda: LogisticRegression(featurizer(chars=(3, 4), cue_weight=0), EPOCHS),
    ),
    ("naive Bayes, words + pairs + cues x1", lambda: NaiveBayes(featurizer(cue_weight=1))),
    ("naive Bayes, words + pairs + cues x5", lambda: NaiveBayes(featurizer(cue_weight=5))),
    ("naive Bayes, words + pairs + cues x8", lambda: NaiveBayes(featurizer(cue_weight=8))),
    *(
        (
            f"logistic regression, words + pairs + cues x{w}",
            lambda w=w: LogisticRegression(featurizer(cue_weight=w), EPOCHS),
        )
        for w in (1, 2, 3)
    ),
    (
        "logistic regression, + char 3-grams + cues x3",
        lambda: LogisticRegression(featurizer(chars=(3,), cue_weight=3), EPOCHS),
    ),
)


def compare(items: Sequence[Item] | None = None, folds: int = 5) -> list[dict[str, Any]]:
    """Each candidate's macro-F1 by `folds`-fold cross-validation on the training split (folds
    by group: a text and its stripped copy never on both sides) and on the held-out test."""
    items = list(items if items is not None else load())
    train = [i for i in items if i.split == "train"]
    test = [i for i in items if i.split == "test"]
    labels = {"category": CATEGORIES, "sentiment": SENTIMENTS}
    rows = []
    for name, make in CANDIDATES:
        row: dict[str, Any] = {"candidate": name}
        for key, classes in labels.items():
            gold: list[str] = []
            guessed: list[str] = []
            for k in range(folds):
                fit = [i for i in train if i.group % folds != k]
                held = [i for i in train if i.group % folds == k]
                model = make().fit([i.text for i in fit], [getattr(i, key) for i in fit])
                gold += [getattr(i, key) for i in held]
                guessed += [model.predict(i.text) for i in held]
            row[f"cv_{key}"] = per_class(gold, guessed, classes)["macro_f1"]
            model = make().fit([i.text for i in train], [getattr(i, key) for i in train])
            guessed = [model.predict(i.text) for i in test]
            row[f"test_{key}"] = per_class([getattr(i, key) for i in test], guessed, classes)[
                "macro_f1"
            ]
        rows.append(row)
    return rows


def render_comparison(rows: Sequence[dict[str, Any]]) -> str:
    lines = [f"{'candidate':<48} {'CV cat':>7} {'CV sent':>7} {'test cat':>8} {'test sent':>9}"]
    for r in rows:
        lines.append(
            f"{r['candidate']:<48} {r['cv_category']:>7.3f} {r['cv_sentiment']:>7.3f} "
            f"{r['test_category']:>8.3f} {r['test_sentiment']:>9.3f}"
        )
    return "\n".join(lines)
