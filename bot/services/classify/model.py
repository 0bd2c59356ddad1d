"""Two small text classifiers in pure Python, trained here from the shipped data in well under a
second: multinomial naive Bayes and multinomial logistic regression. No model is downloaded;
the same data gives the same model (no randomness: fixed order, fixed epochs)."""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

Featurize = Callable[[str], list[str]]


@dataclass
class NaiveBayes:
    """Multinomial naive Bayes with add-`alpha` smoothing, features counted once per text."""

    featurize: Featurize
    alpha: float = 0.3
    _prior: dict[str, float] = field(default_factory=dict)
    _logp: dict[str, dict[str, float]] = field(default_factory=dict)
    _unseen: dict[str, float] = field(default_factory=dict)

    def fit(self, texts: Sequence[str], labels: Sequence[str]) -> NaiveBayes:
        counts: dict[str, Counter[str]] = {}
        for text, label in zip(texts, labels, strict=True):
            counts.setdefault(label, Counter()).update(set(self.featurize(text)))
        vocabulary = {f for c in counts.values() for f in c}
        total = len(labels)
        for label, c in counts.items():
            self._prior[label] = math.log(sum(1 for x in labels if x == label) / total)
            denominator = sum(c.values()) + self.alpha * len(vocabulary)
            self._logp[label] = {f: math.log((n + self.alpha) / denominator) for f, n in c.items()}
            self._unseen[label] = math.log(self.alpha / denominator)
        self._vocabulary = vocabulary
        return self

    def scores(self, text: str) -> dict[str, float]:
        known = [f for f in set(self.featurize(text)) if f in self._vocabulary]
        return {
            label: prior + sum(self._logp[label].get(f, self._unseen[label]) for f in known)
            for label, prior in self._prior.items()
        }

    def predict(self, text: str) -> str:
        scores = self.scores(text)
        return max(sorted(scores), key=scores.__getitem__)


@dataclass
class LogisticRegression:
    """Softmax regression on binary features, plain SGD with L2, fixed epochs and order."""

    featurize: Featurize
    epochs: int = 30
    rate: float = 0.5
    l2: float = 1e-4
    _weights: dict[str, dict[str, float]] = field(default_factory=dict)

    def fit(self, texts: Sequence[str], labels: Sequence[str]) -> LogisticRegression:
        classes = sorted(set(labels))
        self._weights = {c: {} for c in classes}
        rows = [
            (sorted(set(self.featurize(t)) | {"bias"}), y)
            for t, y in zip(texts, labels, strict=True)
        ]
        for epoch in range(self.epochs):
            step = self.rate / (1 + epoch * 0.2)
            for feats, y in rows:
                probs = self._probabilities(feats)
                for c in classes:
                    gradient = probs[c] - (1.0 if c == y else 0.0)
                    w = self._weights[c]
                    for f in feats:
                        w[f] = w.get(f, 0.0) * (1 - step * self.l2) - step * gradient
        return self

    def _probabilities(self, feats: list[str]) -> dict[str, float]:
        raw = {c: sum(w.get(f, 0.0) for f in feats) for c, w in self._weights.items()}
        top = max(raw.values())
        exp = {c: math.exp(v - top) for c, v in raw.items()}
        total = sum(exp.values())
        return {c: v / total for c, v in exp.items()}

    def scores(self, text: str) -> dict[str, float]:
        return self._probabilities(sorted(set(self.featurize(text)) | {"bias"}))

    def predict(self, text: str) -> str:
        scores = self.scores(text)
        return max(sorted(scores), key=scores.__getitem__)
