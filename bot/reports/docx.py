"""The report the ward files (`loa report --format docx`), laid out per Decree 30/2020
(shared/nd30.md) from the report dict of bot/reports/report.py: no figure is computed here."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from docx import Document
from docx.enum.section import WD_ORIENT
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Cm, Mm, Pt
from docx.table import _Cell
from docx.text.paragraph import Paragraph

from bot.reports import wording as w
from bot.services.reach import unit_tree
from bot.storage.db import Database
from content.templates import vn_date

FONT = "Times New Roman"
FILL_IN = "[Cán bộ điền nội dung]"
NUMBER_PLACEHOLDER = "Số:      /BC-UBND"
DEFAULT_PARENT = "UBND TỈNH/THÀNH PHỐ …"
SHORT_RULE = "──────────"
LONG_RULE = "────────────────────────"
BAR_WIDTH = 20  # characters of the widest bar in the reach chart


@dataclass(frozen=True)
class Letterhead:
    """Who issues the report and where: the header's left column and the date line's place."""

    parent: str  # the body above, e.g. "UBND TỈNH BẮC GIANG"
    issuer: str  # e.g. "ỦY BAN NHÂN DÂN PHƯỜNG HÒA BÌNH"
    place: str  # e.g. "Hòa Bình"


async def letterhead(db: Database, unit: str | None, parent: str | None) -> Letterhead:
    """The ward that files the report: the one above `unit`, or the only ward in units.yaml."""
    async with db.reading() as conn:
        tree = await unit_tree(conn)
    rows = tree.units.values()
    start = next((u.id for u in rows if u.code == unit), None) if unit else None
    above = tree.chain(int(start)) if start is not None else [int(u.id) for u in rows]
    wards = [tree.units[u] for u in above if tree.units[u].kind == "ward"]
    name = wards[0].name if len(wards) == 1 else "Phường …"
    bare = re.sub(r"\s*\(.*?\)", "", name).strip()
    place = re.sub(r"^(phường|xã|thị trấn)\s+", "", bare, flags=re.IGNORECASE)
    return Letterhead(parent or DEFAULT_PARENT, f"ỦY BAN NHÂN DÂN {bare}".upper(), place)


def write_docx(
    report: Mapping[str, Any],
    path: Path,
    head: Letterhead,
    plan_titles: Sequence[str],
    today: date,
) -> None:
    doc = Document()
    _page(doc)
    _header(doc, head, today)
    _title(doc, report, plan_titles)
    _contents(doc, report)
    _reach(doc, report)
    _awareness(doc, report)
    _left_for_official(doc, report)
    _footer(doc)
    doc.save(str(path))


def _page(doc: Any) -> None:
    section = doc.sections[0]
    section.orientation = WD_ORIENT.PORTRAIT
    section.page_width, section.page_height = Mm(210), Mm(297)
    section.top_margin, section.bottom_margin = Mm(20), Mm(20)
    section.left_margin, section.right_margin = Mm(30), Mm(15)
    normal = doc.styles["Normal"]
    normal.font.name, normal.font.size = FONT, Pt(14)
    normal.element.rPr.rFonts.set(qn("w:eastAsia"), FONT)
    normal.paragraph_format.space_after = Pt(6)
    # Page numbers centred in the top margin, none on page 1.
    section.different_first_page_header_footer = True
    number = section.header.paragraphs[0]
    number.alignment = WD_ALIGN_PARAGRAPH.CENTER
    _field(number, "PAGE")


def _field(paragraph: Paragraph, code: str) -> None:
    run = paragraph.add_run()
    for kind, text in (("begin", None), (None, code), ("separate", None), (None, "2")):
        if kind:
            element = OxmlElement("w:fldChar")
            element.set(qn("w:fldCharType"), kind)
        else:
            element = OxmlElement("w:instrText" if text == code else "w:t")
            element.set(qn("xml:space"), "preserve")
            element.text = text
        run._r.append(element)
    end = OxmlElement("w:fldChar")
    end.set(qn("w:fldCharType"), "end")
    run._r.append(end)


def _line(
    where: Any,
    text: str,
    *,
    bold: bool = False,
    italic: bool = False,
    size: float = 14,
    align: Any = WD_ALIGN_PARAGRAPH.CENTER,
    first: bool = False,
) -> Paragraph:
    """A paragraph of one run; `first` reuses a table cell's empty first paragraph."""
    p: Paragraph = where.paragraphs[0] if first else where.add_paragraph()
    p.alignment = align
    p.paragraph_format.space_after = Pt(0)
    run = p.add_run(text)
    run.bold, run.italic, run.font.size = bold, italic, Pt(size)
    return p


def _header(doc: Any, head: Letterhead, today: date) -> None:
    left, right = _two_columns(doc, (Cm(6.5), Cm(10)))
    _line(left, head.parent.upper(), size=12, first=True)
    _line(left, head.issuer.upper(), bold=True, size=12)
    _line(left, SHORT_RULE, size=8)
    _line(left, NUMBER_PLACEHOLDER, size=13)
    _line(right, "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", bold=True, size=12, first=True)
    _line(right, "Độc lập - Tự do - Hạnh phúc", bold=True)
    _line(right, LONG_RULE, size=8)
    _line(right, f"{head.place}, {vn_date(today, nd30=True)}", italic=True)


def _two_columns(doc: Any, widths: tuple[Any, Any]) -> tuple[_Cell, _Cell]:
    table = doc.add_table(rows=1, cols=2)
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    table.autofit = False
    cells = table.rows[0].cells
    for column, cell, width in zip(table.columns, cells, widths, strict=True):
        column.width = cell.width = width  # Word reads the cells', LibreOffice the grid
    return cells[0], cells[1]


def _title(doc: Any, report: Mapping[str, Any], plan_titles: Sequence[str]) -> None:
    doc.add_paragraph()
    _line(doc, "BÁO CÁO", bold=True)
    plans = "; ".join(plan_titles) or "kế hoạch tuyên truyền"
    _line(doc, summary_line(report, plans), bold=True)
    _line(doc, SHORT_RULE, size=8)
    unit = report["unit"]
    scope = f" ({unit['name']})" if unit else ""
    _body(
        doc, f"Số liệu lấy từ hệ thống loa{scope}, kỳ báo cáo {w.period_words(report['period'])}."
    )


def summary_line(report: Mapping[str, Any], plans: str) -> str:
    """The trích yếu under BÁO CÁO."""
    return f"Kết quả công tác truyền thông thực hiện {plans} {w.period_words(report['period'])}"


def _heading(doc: Any, text: str) -> None:
    p = _line(doc, text, bold=True, align=WD_ALIGN_PARAGRAPH.JUSTIFY)
    p.paragraph_format.first_line_indent = Cm(1)
    p.paragraph_format.space_before = Pt(6)


def _body(doc: Any, text: str, *, italic: bool = False) -> None:
    p = _line(doc, text, italic=italic, align=WD_ALIGN_PARAGRAPH.JUSTIFY)
    p.paragraph_format.first_line_indent = Cm(1)
    p.paragraph_format.space_after = Pt(6)


def _table(doc: Any, header: Sequence[str], rows: Sequence[Sequence[str]]) -> None:
    table = doc.add_table(rows=1, cols=len(header))
    table.style = "Table Grid"
    for cell, text in zip(table.rows[0].cells, header, strict=True):
        _line(cell, text, bold=True, size=12, first=True)
    for row in rows:
        for i, (cell, text) in enumerate(zip(table.add_row().cells, row, strict=True)):
            align = WD_ALIGN_PARAGRAPH.LEFT if i == 0 else WD_ALIGN_PARAGRAPH.CENTER
            _line(cell, text, size=12, align=align, first=True)
    doc.add_paragraph()


def _contents(doc: Any, report: Mapping[str, Any]) -> None:
    _heading(doc, "1. Nội dung, hình thức truyền thông đã triển khai")
    posts = report["posts"]
    totals = report["totals"]
    if not posts:
        _body(doc, f"Trong kỳ chưa có bài nào được gửi ({w.NO_DATA}).")
        return
    _body(
        doc,
        f"Đã gửi {w.figure(totals['posts'])} bài tới các nhóm Telegram/Zalo của phụ huynh, "
        f"giáo viên, cán bộ; {w.figure(totals['sent_chats'])} lượt gửi tới nhóm.",
    )
    for post in posts:
        _body(
            doc,
            f"- {post['title']}: {w.figure(post['sent_chats'])} nhóm, "
            f"{w.figure(post['audience'])} lượt người nhận.",
        )


FIGURE_ROWS = (
    *("sent_chats", "audience", "acknowledged", "acknowledged_rate", "answered", "understood"),
    *("understood_rate", "engaged", "engaged_rate", "failed", "uncertain"),
)
REACH_COLUMNS = (
    *("sent_chats", "audience", "acknowledged", "acknowledged_rate", "answered"),
    "understood_rate",
)


def _reach(doc: Any, report: Mapping[str, Any]) -> None:
    _heading(doc, "2. Mức độ tiếp cận, lan tỏa")
    totals = report["totals"]
    _body(doc, "a) Kết quả đầu ra và mức độ tiếp nhận:")
    rows = [[w.POSTS, w.figure(totals["posts"])]]
    rows += [[w.FIGURES[k], w.figure(totals[k])] for k in FIGURE_ROWS]
    _table(doc, ["Chỉ số", "Kết quả"], rows)
    if report["notes"]:
        _body(doc, f"Ghi chú: trong kỳ chưa có bài nào được gửi tới các nhóm ({w.NO_DATA}).")
    _body(doc, "b) Kết quả thực hiện chỉ tiêu của kế hoạch:")
    header = ["Chỉ tiêu", "Mục tiêu", "Đạt được", "Đánh giá"]
    kpis = [
        [k["description"], w.target(k), _achieved(k), w.STATUS[k["status"]]] for k in report["kpis"]
    ]
    _table(doc, header, kpis or [_none(header)])
    header = ["Đơn vị", *(w.FIGURES[k] for k in REACH_COLUMNS)]
    _body(doc, "c) Mức độ tiếp cận theo trường:")
    _table(doc, header, [_reach_row(r["name"], r) for r in report["by_school"]] or [_none(header)])
    _body(doc, "d) Mức độ tiếp cận theo đối tượng:")
    header[0] = "Đối tượng"
    rows = [_reach_row(w.audience(r["name"]), r) for r in report["by_audience"]]
    _table(doc, header, rows or [_none(header)])
    _chart(doc, report["by_school"])


def _achieved(kpi: Mapping[str, Any]) -> str:
    if kpi["achieved"] is None:
        return w.NO_DATA
    unit = "%" if kpi["target"]["unit"] == "percent" else ""
    return f"{w.figure(kpi['achieved'])}{unit}"


def _reach_row(name: str, row: Mapping[str, Any]) -> list[str]:
    return [name, *(w.figure(row[k]) for k in REACH_COLUMNS)]


def _none(header: Sequence[str]) -> list[str]:
    return [w.NO_DATA, *("" for _ in header[1:])]


def _chart(doc: Any, schools: Sequence[Mapping[str, Any]]) -> None:
    """The reach chart as a table of text bars (no image library is installed for one chart)."""
    _body(doc, "đ) Biểu đồ lượt người nhận theo trường:")
    if not schools:
        _body(doc, w.NO_DATA)
        return
    widest = max(s["audience"] for s in schools) or 1
    bars = [
        [s["name"], "█" * round(BAR_WIDTH * s["audience"] / widest), w.figure(s["audience"])]
        for s in schools
    ]
    _table(doc, ["Trường", "Lượt người nhận", "Số lượt"], bars)


def _awareness(doc: Any, report: Mapping[str, Any]) -> None:
    _heading(doc, "3. Sự chuyển biến về nhận thức, hành động của cán bộ, giáo viên, học sinh")
    _body(doc, FILL_IN, italic=True)
    _body(doc, "Minh chứng:")
    totals = report["totals"]
    _body(
        doc,
        f"- Tỷ lệ trả lời đúng câu hỏi: {_rate(totals['understood_rate'])} "
        f"({w.figure(totals['understood'])}/{w.figure(totals['answered'])} lượt trả lời).",
    )
    _body(doc, f"- Tỷ lệ “Đã hiểu”: {_rate(totals['acknowledged_rate'])}.")
    for row in report["by_audience"]:
        if row["answered"]:
            _body(
                doc, f"- {w.audience(row['name'])}: {_rate(row['understood_rate'])} trả lời đúng."
            )


def _rate(value: float | None) -> str:
    return w.NO_DATA if value is None else f"{w.figure(value)}%"


def _left_for_official(doc: Any, report: Mapping[str, Any]) -> None:
    kpis = report["kpis"]
    models = [k for k in kpis if k["metric"] == "exemplar_models"]
    _part(doc, "4. Những mô hình hiệu quả", [_kpi_evidence(k) for k in models])
    totals = report["totals"]
    unmeasured = [_kpi_evidence(k) for k in kpis if k["status"] == "not_measurable"]
    troubles = [
        f"{w.FIGURES['failed']}: {w.figure(totals['failed'])}; "
        f"{w.FIGURES['uncertain'].lower()}: {w.figure(totals['uncertain'])}.",
        *unmeasured,
    ]
    _part(doc, "5. Những khó khăn, vướng mắc", troubles)
    behind = [_kpi_evidence(k) for k in kpis if k["status"] == "behind"]
    _part(doc, "6. Đề xuất, kiến nghị", behind)


def _kpi_evidence(kpi: Mapping[str, Any]) -> str:
    return f"{kpi['description']}: {w.STATUS[kpi['status']].lower()} ({_achieved(kpi)})."


def _part(doc: Any, heading: str, evidence: Sequence[str]) -> None:
    _heading(doc, heading)
    _body(doc, FILL_IN, italic=True)
    _body(doc, "Minh chứng:")
    for line in evidence or [w.NO_DATA]:
        _body(doc, f"- {line}")


def _footer(doc: Any) -> None:
    doc.add_paragraph()
    left, right = _two_columns(doc, (Cm(8), Cm(8)))
    _line(left, "Nơi nhận:", bold=True, italic=True, size=12,
          align=WD_ALIGN_PARAGRAPH.LEFT, first=True)  # fmt: skip
    for recipient in ("- UBND tỉnh/thành phố (để b/c);", "- Thường trực Đảng ủy (để b/c);",
                      "- Các trường trên địa bàn;", "- Lưu: VT, VHXH."):  # fmt: skip
        _line(left, recipient, size=11, align=WD_ALIGN_PARAGRAPH.LEFT)
    _line(right, "TM. ỦY BAN NHÂN DÂN", bold=True, first=True)
    _line(right, "CHỦ TỊCH", bold=True)
    for _ in range(4):
        _line(right, "")
    _line(right, "[Họ và tên]", bold=True)
