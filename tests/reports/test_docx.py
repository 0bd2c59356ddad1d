"""The DOCX the ward files, read back with python-docx: Decree 30 page and header, and exactly
the JSON report's figures (the scenario of the JSON end-to-end test)."""

from __future__ import annotations

import asyncio
import shutil
import subprocess
from collections.abc import AsyncIterator
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from docx import Document

from bot.cli import main
from bot.config import DEFAULT_CONTENT_DIR
from bot.reports.docx import letterhead, write_docx
from bot.reports.period import quarter_of
from bot.reports.report import build_report
from bot.reports.wording import FIGURES as KEYS
from bot.reports.wording import report_wording
from bot.storage.db import Database
from bot.storage.models import utcnow
from tests.chatworld import World, chat_world
from tests.reports.test_reach_end_to_end import CONTENT, play
from tests.reports.test_report_cli import loa  # noqa: F401  (the fixture)

FILED_ON = date(2027, 1, 5)
WORDS = report_wording(DEFAULT_CONTENT_DIR)
FIGURES = {k: WORDS.words("label", k) for k in KEYS}


@pytest.fixture
async def world(db: Database) -> AsyncIterator[World]:
    """The reports' ward on SQLite only, for what does not depend on the database."""
    async with chat_world(db) as w:
        yield w


def _number(text: str) -> float | None:
    """ "1.234" → 1234, "66,7%" → 66.7, "chưa có dữ liệu" → None."""
    if text == "chưa có dữ liệu":
        return None
    return float(text.rstrip("%").replace(".", "").replace(",", "."))


def _rows(document: Any, first_header: str) -> list[list[str]]:
    """The body rows of the table whose first header cell is `first_header`."""
    table = next(t for t in document.tables if t.rows[0].cells[0].text == first_header)
    return [[c.text for c in row.cells] for row in table.rows[1:]]


async def _filed(world: World, tmp_path: Path) -> tuple[dict[str, Any], Any]:
    await play(world)
    period = quarter_of((utcnow() + timedelta(hours=7)).date())
    report = await build_report(world.db, period, CONTENT, now=period.end)
    path = tmp_path / "bao-cao.docx"
    head = await letterhead(world.db, None, None)
    write_docx(report, path, head, [CONTENT.plans["bench"].title], FILED_ON, WORDS)
    return report, Document(str(path))


async def test_the_docx_carries_the_json_figures(any_world: World, tmp_path: Path) -> None:
    report, doc = await _filed(any_world, tmp_path)

    totals = {name: _number(value) for name, value in _rows(doc, "Chỉ số")}
    assert totals.pop("Số bài đã gửi") == report["totals"]["posts"] == 2
    expected = {FIGURES[k]: report["totals"][k] for k in FIGURES if FIGURES[k] in totals}
    assert totals == expected and totals[FIGURES["acknowledged_rate"]] == 66.7
    assert len(totals) == 11, "every figure of the totals is in the table"

    kpis = _rows(doc, "Chỉ tiêu")
    assert [(r[0], r[3]) for r in kpis] == [
        (k["description"], {"met": "Đạt", "on_track": "Đúng tiến độ", "behind": "Chưa đạt",
                            "not_measurable": "Chưa đo được"}[k["status"]])
        for k in report["kpis"]
    ]  # fmt: skip
    assert [_number(r[2]) for r in kpis] == [k["achieved"] for k in report["kpis"]]

    schools = {r[0]: [_number(v) for v in r[1:]] for r in _rows(doc, "Đơn vị")}
    keys = ("sent_chats", "audience", "acknowledged", "acknowledged_rate", "answered")
    assert schools == {
        row["name"]: [row[k] for k in (*keys, "understood_rate")] for row in report["by_school"]
    }
    audiences = {r[0]: _number(r[2]) for r in _rows(doc, "Đối tượng")}
    assert audiences == {"Cán bộ": 2, "Phụ huynh": 8}
    chart = {r[0]: [_number(v) for v in r[1:]] for r in _rows(doc, "Trường")}
    series = ("audience", "acknowledged", "engaged")
    assert chart == {row["name"]: [row[k] for k in series] for row in report["by_school"]}
    [picture] = doc.inline_shapes
    assert "theo trường" in picture._inline.docPr.get("descr"), "screen readers say what it is"
    assert 150 <= picture.width.mm <= 165, "the chart spans the text width (165 mm)"
    blip = picture._inline.graphic.graphicData.pic.blipFill.blip.embed
    assert doc.part.related_parts[blip].blob.startswith(b"\x89PNG")

    text = "\n".join(p.text for p in doc.paragraphs)
    for post in report["posts"]:
        assert f"- {post['title']}: {post['sent_chats']} nhóm, {post['audience']} lượt" in text
    for part in ("4. Những mô hình hiệu quả", "5. Những khó khăn, vướng mắc",
                 "6. Đề xuất, kiến nghị"):  # fmt: skip
        assert part in text
    assert text.count("[Cán bộ điền nội dung]") == 4, "parts 3 to 6 are the official's to write"
    assert "Tỷ lệ trả lời đúng câu hỏi: 50% (2/4 lượt trả lời)" in text


async def test_the_docx_is_laid_out_per_decree_30(world: World, tmp_path: Path) -> None:
    report, doc = await _filed(world, tmp_path)

    section = doc.sections[0]
    sizes = ("page_width", "page_height", "top_margin", "bottom_margin", "left_margin",
             "right_margin")  # fmt: skip
    mm = [round(getattr(section, size).mm) for size in sizes]
    assert mm == [210, 297, 20, 20, 30, 15], "A4 portrait; margins 20 top and bottom, 30/15"
    assert doc.styles["Normal"].font.name == "Times New Roman"
    assert section.different_first_page_header_footer, "no page number on page 1"
    assert "PAGE" in section.header.paragraphs[0]._p.xml

    left, right = (c.paragraphs for c in doc.tables[0].rows[0].cells)
    assert left[0].text == "UBND TỈNH/THÀNH PHỐ …"
    assert (left[1].text, left[1].runs[0].bold) == ("ỦY BAN NHÂN DÂN PHƯỜNG A", True)
    assert left[3].text.startswith("Số:") and left[3].text.endswith("/BC-UBND")
    assert (right[0].text, right[0].runs[0].bold) == ("CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", True)
    assert right[1].text == "Độc lập - Tự do - Hạnh phúc"
    assert (right[3].text, right[3].runs[0].italic) == ("A, ngày 05 tháng 01 năm 2027", True)

    titles = [p.text for p in doc.paragraphs if p.text]
    quarter = report["period"]["label"][-1]
    roman = {"1": "I", "2": "II", "3": "III", "4": "IV"}[quarter]
    assert titles[0] == "BÁO CÁO"
    assert titles[1] == (
        f"Kết quả công tác truyền thông thực hiện Kế hoạch tuyên truyền quý {roman} "
        f"năm {report['period']['label'][:4]}"
    )
    sign = [p.text for p in doc.tables[-1].rows[0].cells[1].paragraphs if p.text]
    assert sign == ["TM. ỦY BAN NHÂN DÂN", "CHỦ TỊCH", "[Họ và tên]"]
    assert doc.tables[-1].rows[0].cells[0].paragraphs[0].text == "Nơi nhận:"


def test_a_period_without_data_files_a_report_of_zeros(loa: Path) -> None:  # noqa: F811
    out = loa / "q4.docx"
    args = ["report", "--period", "2026-Q4", "--format", "docx", "-o", str(out)]
    assert main([*args, "--parent-body", "UBND tỉnh Bắc Giang"]) == 0
    doc = Document(str(out))
    totals = {name: _number(value) for name, value in _rows(doc, "Chỉ số")}
    assert totals[FIGURES["sent_chats"]] == totals[FIGURES["audience"]] == 0
    assert totals[FIGURES["acknowledged_rate"]] is None
    text = "\n".join(p.text for p in doc.paragraphs)
    assert "Ghi chú: trong kỳ chưa có bài nào được gửi" in text
    assert "quý IV năm 2026" in text
    assert doc.tables[0].rows[0].cells[0].paragraphs[0].text == "UBND TỈNH BẮC GIANG"


@pytest.mark.slow
async def test_the_docx_renders_as_a4_pages(world: World, tmp_path: Path) -> None:
    soffice, pdftoppm = shutil.which("soffice"), shutil.which("pdftoppm")
    if soffice is None or pdftoppm is None:
        pytest.skip("needs soffice (libreoffice-writer) and pdftoppm (poppler-utils)")
    await _filed(world, tmp_path)
    pages = await asyncio.to_thread(_pages, soffice, pdftoppm, tmp_path)
    assert 2 <= len(pages) <= 6, "the report runs over a few pages"
    width, height = _png_size(pages[0])
    assert abs(height / width - 297 / 210) < 0.02, "page 1 is A4 portrait"


def _pages(soffice: str, pdftoppm: str, folder: Path) -> list[Path]:
    """bao-cao.docx → PDF (LibreOffice) → one PNG per page (poppler)."""
    convert = [soffice, "--headless", "--convert-to", "pdf", "--outdir", str(folder)]
    subprocess.run([*convert, str(folder / "bao-cao.docx")], check=True, timeout=180)
    subprocess.run([pdftoppm, "-png", "-r", "30", str(folder / "bao-cao.pdf"),
                    str(folder / "page")], check=True, timeout=60)  # fmt: skip
    return sorted(folder.glob("page-*.png"))


def _png_size(path: Path) -> tuple[int, int]:
    header = path.read_bytes()[16:24]
    return int.from_bytes(header[:4], "big"), int.from_bytes(header[4:], "big")
