"""Message templates: strict, escaped, Vietnamese formats, clear errors."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

import pytest

from bot.text import fold, fold_phrase
from content.templates import TemplateError, Templates, vn_date, vn_number
from tests.handlers.fakes import TEMPLATES_DIR

# Every chat template with the values its handler passes.
CHAT_TEMPLATES = {
    "start": {"name": "Lan"},
    "help": {},
    "ack_thanks": {"name": "Lan"},
    "ack_again": {"name": "Lan"},
    "ack_unknown": {},
    "unknown_command": {"command": "abc"},
    "error": {},
}


@pytest.mark.parametrize("name", sorted(CHAT_TEMPLATES))
def test_chat_templates_render_in_vietnamese(name: str) -> None:
    text = Templates(TEMPLATES_DIR).render(name, **CHAT_TEMPLATES[name])
    assert text and text == text.strip()
    assert any(c in text for c in "ăâđêôơưáàảãạ"), "expected Vietnamese with diacritics"
    assert "{{" not in text and "{#" not in text


def test_empty_name_reads_naturally() -> None:
    t = Templates(TEMPLATES_DIR)
    assert t.render("start", name="").startswith("Xin chào!")
    assert t.render("ack_thanks", name="") == "Cảm ơn bạn đã xác nhận đã hiểu."


def test_a_missing_value_names_the_template() -> None:
    with pytest.raises(TemplateError, match=r"^unknown_command\.j2: 'command' is undefined"):
        Templates(TEMPLATES_DIR).render("unknown_command")


def test_a_broken_template_names_file_and_line(tmp_path: Path) -> None:
    (tmp_path / "broken.j2").write_text("Xin chào\n{% if name %}\n", encoding="utf-8")
    t = Templates(tmp_path)
    with pytest.raises(TemplateError, match=r"^broken\.j2:\d+: "):
        t.render("broken", name="x")
    assert len(t.check()) == 1 and t.check()[0].startswith(str(tmp_path / "broken.j2"))
    with pytest.raises(TemplateError, match=r"^missing\.j2: no such template"):
        t.render("missing")


def test_filters_in_templates(tmp_path: Path) -> None:
    (tmp_path / "f.j2").write_text("{{ at | vn_date }} – {{ n | vn_number }} người", "utf-8")
    t = Templates(tmp_path)
    # 17:30 UTC is 00:30 the next day in Hà Nội
    text = t.render("f", at=datetime(2026, 11, 21, 17, 30), n=1234567)
    assert text == "ngày 22 tháng 11 năm 2026 – 1.234.567 người"


def test_vn_date() -> None:
    assert vn_date(date(2026, 11, 22)) == "ngày 22 tháng 11 năm 2026"
    assert vn_date(datetime(2026, 11, 21, 17, 30, tzinfo=UTC)) == "ngày 22 tháng 11 năm 2026"
    assert vn_date(datetime(2026, 11, 21, 17, 30), "UTC") == "ngày 21 tháng 11 năm 2026"
    assert vn_date(date(2027, 1, 5), nd30=True) == "ngày 05 tháng 01 năm 2027"
    assert vn_date(date(2027, 3, 5), nd30=True) == "ngày 05 tháng 3 năm 2027"


def test_vn_number() -> None:
    assert vn_number(1234567) == "1.234.567"
    assert vn_number(-1200) == "-1.200"
    assert vn_number(92.5) == "92,5"
    assert vn_number(1000.0) == "1.000"
    assert vn_number(Decimal("1234.5"), 2) == "1.234,50"


def test_fold() -> None:
    assert fold("Đã hiểu") == fold("da hieu") == "da hieu"
    assert fold("ĐƯỜNG Ống Nước") == "duong ong nuoc"
    assert fold_phrase("  Trợ   giúp!! ") == "tro giup"
