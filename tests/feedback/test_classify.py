"""The feedback classifier on its held-out set, the set's own guarantees, and the CLI."""

from __future__ import annotations

import io
import json
from collections import Counter

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.cli import main
from bot.services.classify import CATEGORIES, CUE_WEIGHT, SENTIMENTS, classify
from bot.services.classify.dataset import load
from bot.services.classify.evaluate import TARGET_F1, TARGET_GAP, compare, evaluate
from bot.services.classify.features import normalize
from bot.text import fold


def test_held_out_figures_meet_the_targets() -> None:
    report = evaluate()
    assert report["test"]["category"]["macro_f1"] >= TARGET_F1
    assert report["test"]["sentiment"]["macro_f1"] >= TARGET_F1
    assert report["diacritics"]["pairs"] >= 50
    assert max(report["diacritics"]["gap"].values()) <= TARGET_GAP


def test_the_set_is_large_sourced_and_split_by_group() -> None:
    items = load()
    assert len(items) >= 300
    assert all(i.source for i in items)
    assert {i.category for i in items} == set(CATEGORIES)
    assert {i.sentiment for i in items} == set(SENTIMENTS)
    without_marks = sum(1 for i in items if fold(i.text) == i.text.lower())
    assert without_marks >= len(items) / 3
    split_of: dict[int, set[str]] = {}
    for i in items:
        split_of.setdefault(i.group, set()).add(i.split)
    assert all(len(s) == 1 for s in split_of.values()), "an item and its copy split apart"
    held_out = Counter(i.category for i in items if i.split == "test")
    assert min(held_out.values()) >= 8
    real = sum(1 for i in items if i.source.startswith("http"))
    assert real >= len(items) / 2


def test_shorthand_and_missing_diacritics_read_as_formal_text() -> None:
    assert normalize("ko dc j ph gv") == normalize("không được gì phụ huynh giáo viên")
    assert classify("Cô ơi con không được nghỉ học à?") == classify("co oi con ko dc nghi hoc a?")


@pytest.mark.parametrize(
    ("text", "category", "sentiment"),
    [
        ("Cảm ơn cô đã chăm con lúc con ốm ạ", "thanks", "positive"),
        ("nghe noi mai truong cho hs nghi vi co bat coc, that ko mn", "misinformation", None),
        ("Đề nghị nhà trường gửi lịch thi sớm hơn", "suggestion", "neutral"),
        ("Thu tiền điều hòa mà không có biên lai, quá vô lý", "complaint", "negative"),
        ("Cho em hỏi mấy giờ họp phụ huynh ạ?", "question", "neutral"),
    ],
)
def test_typical_messages(text: str, category: str, sentiment: str | None) -> None:
    label = classify(text)
    assert label.category == category
    if sentiment:
        assert label.sentiment == sentiment


def test_cli_classifies_one_json_per_line(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(
        "sys.stdin", io.StringIO("cam on co nhieu a\n\nCô ơi mai con có đi học ko ạ\n")
    )
    assert main(["feedback", "classify", "-"]) == 0
    lines = [json.loads(x) for x in capsys.readouterr().out.splitlines()]
    assert [x["text"] for x in lines] == ["cam on co nhieu a", "Cô ơi mai con có đi học ko ạ"]
    assert lines[0]["category"] == "thanks" and lines[0]["sentiment"] == "positive"
    assert lines[1]["category"] == "question"


def test_cli_reports_an_unreadable_file(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["feedback", "classify", "/nonexistent/feedback.txt"]) == 1
    assert "feedback.txt" in capsys.readouterr().err


@settings(max_examples=300, deadline=None)
@given(st.text() | st.text(alphabet="ăâđêôơưáàảãạ ?!<>&\x00\n\t\u200b", max_size=5000))
def test_any_text_gets_a_valid_label(text: str) -> None:
    label = classify(text)
    assert label.category in CATEGORIES and label.sentiment in SENTIMENTS


def test_huge_and_empty_texts_get_labels() -> None:
    for text in ("", "   ", "?" * 100_000, "<b>cảm ơn</b>" * 5000, "\x00\x01\x7f"):
        label = classify(text)
        assert label.category in CATEGORIES and label.sentiment in SENTIMENTS


@pytest.mark.slow
def test_the_shipped_method_is_the_best_by_cross_validation() -> None:
    rows = compare()
    best = max(rows, key=lambda r: r["cv_category"] + r["cv_sentiment"])
    assert best["candidate"] == f"logistic regression, words + pairs + cues x{CUE_WEIGHT}"
