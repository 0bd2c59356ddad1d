"""Targets found in sentences of real plans the rules were not written against."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from content.importer.evaluate import evaluate, extract, load, main, strip_diacritics
from content.importer.vocab import METRIC_WORDS

CASES = Path(__file__).resolve().parent / "targets" / "cases.yaml"


@pytest.fixture(scope="module")
def cases() -> list[dict[str, Any]]:
    return load(CASES)


@pytest.mark.parametrize("part", ["all", "held out"])
def test_targets_of_real_plans_are_found(cases: list[dict[str, Any]], part: str) -> None:
    score = evaluate(cases)[part]
    assert score.recall >= 0.95, score.misses
    assert score.precision >= 0.97, score.misses
    assert score.agreeing == score.stated, score.misses


def test_the_set_is_real_plans_with_traps_and_sentences_without_targets(
    cases: list[dict[str, Any]],
) -> None:
    assert len(cases) >= 40
    assert all(c["source"]["title"] and c["source"]["issuer"] for c in cases)
    assert sum(not c["targets"] for c in cases) >= 8
    assert sum(bool(c.get("heldout")) for c in cases) >= 8


def test_a_wrong_reading_lowers_the_score(cases: list[dict[str, Any]]) -> None:
    """The evaluator counts what the importer gets wrong, both ways."""
    spoiled = [dict(c, targets=[[7, "count", "="]]) if c["targets"] else c for c in cases]
    score = evaluate(spoiled)["all"]
    assert score.recall == 0 and score.precision == 0


def test_every_target_names_a_known_measure_or_manual(cases: list[dict[str, Any]]) -> None:
    known = {metric for _, metric in METRIC_WORDS} | {"manual"}
    metrics = Counter(t["metric"] for c in cases for t in extract(str(c["text"])))
    assert set(metrics) <= known
    assert metrics["manual"] and len(metrics) > 1


def test_measures_and_their_absence() -> None:
    text = "- 100% cán bộ được quán triệt; giảm 10% số trẻ em bị tử vong do đuối nước."
    assert [t["metric"] for t in extract(text)] == ["briefed", "manual"]


def test_ocr_without_diacritics_reads_the_same() -> None:
    text = "Tối thiểu 55% học sinh lớp 5, 65% học sinh lớp 9 và 75% học sinh lớp 12 biết bơi."
    assert strip_diacritics(text).startswith("Toi thieu 55% hoc sinh lop 5")
    rows = [(t["value"], t["comparator"]) for t in extract(strip_diacritics(text))]
    assert rows == [(55, ">="), (65, ">="), (75, ">=")]


def test_command_prints_recall_and_precision(capsys: pytest.CaptureFixture[str]) -> None:
    assert main([str(CASES)]) == 0
    out = capsys.readouterr().out
    assert "recall 1.000  precision 1.000" in out.splitlines()[1]
