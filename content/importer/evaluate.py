"""Score target extraction against hand-checked sentences of real plans.

`python -m content.importer.evaluate tests/content/targets/cases.yaml [-v]` prints the recall
and precision of (value, unit, comparator) over all cases, the held-out ones and the rest.
Each case's text is read as the body of a plan's "MỤC TIÊU" part; every third case is also
scored without its diacritics, as OCR gives it.
"""

from __future__ import annotations

import argparse
import sys
import unicodedata
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from content.importer.document import parse
from content.importer.targets import extract_targets
from content.importer.vocab import is_ocr

Triple = tuple[float, str, str]


@dataclass
class Score:
    expected: int = 0
    found: int = 0
    matched: int = 0
    stated: int = 0  # audiences and periods the cases state
    agreeing: int = 0  # … that a matched target carries
    misses: list[str] = field(default_factory=list)  # "case: missed …, spurious …"

    @property
    def recall(self) -> float:
        return self.matched / self.expected if self.expected else 1.0

    @property
    def precision(self) -> float:
        return self.matched / self.found if self.found else 1.0

    def add_attributes(self, name: str, wanted: list[Any], found: list[dict[str, Any]]) -> None:
        """Audience and period, where the case states them, on a target of the same triple."""
        for value, unit, comparator, *rest in wanted:
            for key, want in (rest[0] if rest else {}).items():
                self.stated += 1
                same = [t for t in found if _triple(value, unit, comparator) == _of(t)]
                if any(str(t.get(key)) == want for t in same):
                    self.agreeing += 1
                else:
                    self.misses.append(f"{name}: {value} {unit} without {key} {want}")

    def add(self, name: str, expected: Counter[Triple], found: Counter[Triple]) -> None:
        self.expected += sum(expected.values())
        self.found += sum(found.values())
        self.matched += sum((expected & found).values())
        missed, spurious = expected - found, found - expected
        if missed or spurious:
            self.misses.append(f"{name}: missed {sorted(missed)}, spurious {sorted(spurious)}")


def strip_diacritics(text: str) -> str:
    """The text as OCR without Vietnamese accents reads it: "Đạt 95%" → "Dat 95%"."""
    text = text.replace("đ", "d").replace("Đ", "D")
    decomposed = unicodedata.normalize("NFD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def extract(text: str) -> list[dict[str, Any]]:
    """The targets the importer finds in `text` read as a plan's objectives."""
    return extract_targets(parse("II. MỤC TIÊU\n" + text), is_ocr(text))


def _triple(value: float, unit: str, comparator: str) -> Triple:
    return (round(float(value), 3), unit, comparator)


def _of(target: dict[str, Any]) -> Triple:
    return _triple(target["value"], target["unit"], target["comparator"])


def variants(cases: list[dict[str, Any]]) -> list[tuple[str, dict[str, Any], str]]:
    """(name, case, text): every case, and every third one again without diacritics."""
    out = []
    for i, case in enumerate(cases):
        out.append((case["id"], case, case["text"]))
        if i % 3 == 0:
            out.append((f"{case['id']} (no diacritics)", case, strip_diacritics(case["text"])))
    return out


def evaluate(cases: list[dict[str, Any]]) -> dict[str, Score]:
    scores = {"all": Score(), "held out": Score(), "development": Score()}
    for name, case, text in variants(cases):
        targets = extract(text)
        expected = Counter(_triple(*t[:3]) for t in case["targets"])
        found = Counter(_of(t) for t in targets)
        part = "held out" if case.get("heldout") else "development"
        for key in ("all", part):
            scores[key].add(name, expected, found)
            scores[key].add_attributes(name, case["targets"], targets)
    return scores


def load(path: Path) -> list[dict[str, Any]]:
    cases = yaml.safe_load(path.read_text(encoding="utf-8"))
    assert isinstance(cases, list)
    return cases


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m content.importer.evaluate")
    parser.add_argument("cases", type=Path)
    parser.add_argument(
        "-v", "--verbose", action="count", default=0, help="list mismatches (-vv: held out too)"
    )
    args = parser.parse_args(argv)
    cases = load(args.cases)
    scores = evaluate(cases)
    print(f"{len(cases)} cases, {len(variants(cases))} with the variants without diacritics")
    for key, score in scores.items():
        print(
            f"{key:>12}: recall {score.recall:.3f}  precision {score.precision:.3f}"
            f"  (expected {score.expected}, found {score.found}, matched {score.matched};"
            f" audience/per {score.agreeing}/{score.stated})"
        )
    if args.verbose:
        for line in scores["all" if args.verbose > 1 else "development"].misses:
            print(line)
    return 0


if __name__ == "__main__":
    sys.exit(main())
