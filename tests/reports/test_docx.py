"""The DOCX the ward files, read back with python-docx: Decree 30 page and header, and exactly
the JSON report's figures (the scenario of the JSON end-to-end test)."""

from __future__ import annotations

import asyncio
import re
import shutil
import subprocess
from collections.abc import AsyncIterator
from datetime import date, timedelta
from pathlib import Path
from typing import Any
from xml.etree import ElementTree

import pytest
from docx import Document

from bot.cli import main
from bot.config import DEFAULT_CONTENT_DIR
from bot.reports.chart import MAX_BARS
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
    header = next(t for t in doc.tables if t.rows[0].cells[0].text == "Đơn vị").rows[0]
    assert "Đã xác nhận “Đã hiểu”" in [c.text for c in header.cells], "Zalo types, not taps"
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
    assert not doc.inline_shapes, "no chart of nothing"
    assert "Trong kỳ chưa có hoạt động nào được báo cáo" in text
    assert "Ý kiến phản hồi theo chủ đề: trong kỳ không có ý kiến phản hồi." in text
    assert "Câu hỏi chưa được trả lời: không có." in text


async def test_more_schools_than_a_page_shows_are_charted_by_audience(
    world: World, tmp_path: Path
) -> None:
    report, _ = await _filed(world, tmp_path)
    [school, *_] = report["by_school"]
    report["by_school"] = [{**school, "name": f"Trường {i:02}"} for i in range(MAX_BARS + 1)]
    write_docx(report, tmp_path / "tinh.docx", await letterhead(world.db, None, None), [],
               FILED_ON, WORDS)  # fmt: skip
    doc = Document(str(tmp_path / "tinh.docx"))
    [picture] = doc.inline_shapes
    assert "theo đối tượng" in picture._inline.docPr.get("descr")
    *_, table = (t for t in doc.tables if t.rows[0].cells[0].text == "Đối tượng")
    header = [c.text for c in table.rows[0].cells]
    assert header == ["Đối tượng", FIGURES["audience"], FIGURES["acknowledged"], FIGURES["engaged"]]
    chart = {row.cells[0].text: _number(row.cells[1].text) for row in table.rows[1:]}
    assert chart == {"Cán bộ": 2, "Phụ huynh": 8}, "the chart's table gives it by audience"
    assert len(_rows(doc, "Đơn vị")) == MAX_BARS + 1, "the reach table still lists every school"


@pytest.mark.slow
async def test_the_docx_renders_on_a4_with_decree_30_margins(world: World, tmp_path: Path) -> None:
    tools = {t: shutil.which(t) for t in ("soffice", "pdftotext", "pdfinfo", "pdfimages")}
    if not all(tools.values()):
        pytest.skip("needs soffice (libreoffice-writer) and poppler-utils")
    await _filed(world, tmp_path)
    pdf = await asyncio.to_thread(_pdf, str(tools["soffice"]), tmp_path / "bao-cao.docx")
    pages = _words(pdf)

    info = _run("pdfinfo", "-f", "1", "-l", str(len(pages)), str(pdf))
    sizes = re.findall(r"Page\s+\d+ size:\s+([\d.]+) x ([\d.]+) pts", info)
    assert len(sizes) == len(pages) >= 2, "the report runs over a few pages"
    assert {(round(_mm(w)), round(_mm(h))) for w, h in sizes} == {(210, 297)}, "A4 portrait"

    # Where the ink is: the body's line boxes start at the margins (the page number of pages
    # 2+ sits in the top margin, so the top is measured on page 1, which has none).
    body = [word for page in pages for word in page]
    left, right = min(w[0] for w in body), 210 - max(w[2] for w in body)
    top, bottom = min(w[1] for w in pages[0]), 297 - max(w[3] for w in body)
    assert 29.5 <= left <= 35, f"left margin 30–35 mm, ink from {left:.1f} mm"
    assert 15 <= right <= 20, f"right margin 15–20 mm, ink to {right:.1f} mm from the edge"
    assert 19.5 <= top <= 25, f"top margin 20–25 mm, first line at {top:.1f} mm"
    assert bottom >= 20, f"bottom margin ≥ 20 mm, last line {bottom:.1f} mm from the edge"

    first = " ".join(_run("pdftotext", "-f", "1", "-l", "1", str(pdf), "-").split())
    for line in (
        "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM",
        "Độc lập - Tự do - Hạnh phúc",
        "ỦY BAN NHÂN DÂN PHƯỜNG A",
        "/BC-UBND",
        "ngày 05 tháng 01 năm 2027",
        "BÁO CÁO",
    ):
        assert line in first, f"page 1 carries the header line {line!r}"  # fmt: skip
    number = [w for w in pages[1] if w[3] < 20]
    assert [w[4] for w in number] == ["2"], "page 2 is numbered in the top margin, page 1 not"
    assert not [w for w in pages[0] if w[3] < 19.5]
    images = _run("pdfimages", "-list", str(pdf)).splitlines()[2:]
    assert any(" image " in row for row in images), "the reach chart is drawn as an image"


def _pdf(soffice: str, docx: Path) -> Path:
    """The DOCX → PDF as LibreOffice lays it out (what `make report-preview` draws)."""
    convert = [soffice, "--headless", "--convert-to", "pdf", "--outdir", str(docx.parent)]
    subprocess.run([*convert, str(docx)], check=True, timeout=180, capture_output=True)
    return docx.with_suffix(".pdf")


def _run(*command: str) -> str:
    return subprocess.run(command, check=True, timeout=60, capture_output=True, text=True).stdout


def _mm(points: str | float) -> float:
    return float(points) * 25.4 / 72


def _words(pdf: Path) -> list[list[tuple[float, float, float, float, str]]]:
    """Per page, each word's box in mm from the top-left corner, and its text."""
    xhtml = _run("pdftotext", "-bbox", str(pdf), "-")
    namespace = {"x": "http://www.w3.org/1999/xhtml"}
    root = ElementTree.fromstring(xhtml)
    return [
        [
            (_mm(w.attrib["xMin"]), _mm(w.attrib["yMin"]), _mm(w.attrib["xMax"]),
             _mm(w.attrib["yMax"]), w.text or "")
            for w in page.iterfind("x:word", namespace)
        ]
        for page in root.iterfind(".//x:page", namespace)
    ]  # fmt: skip
