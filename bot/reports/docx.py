"""The report the ward files (`loa report --format docx`), laid out per Decree 30/2020
(shared/nd30.md) from the report dict of bot/reports/report.py: no figure is computed here."""

from __future__ import annotations

import io
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

from bot.reports.chart import MAX_BARS, SERIES, reach_png
from bot.reports.report import AUDIENCE_FROM_REPLIES, NO_DATA
from bot.reports.wording import Wording
from bot.services.reach import unit_tree
from bot.storage.db import Database

FONT = "Times New Roman"
SHORT_RULE = "──────────"
LONG_RULE = "────────────────────────"
TEXT_WIDTH_CM = 16.5  # A4 less the 30 mm and 15 mm margins
MAX_QUESTIONS = 20  # open questions listed in part 5; the XLSX sheet has every one


@dataclass(frozen=True)
class Letterhead:
    """Who issues the report: the header's left column and the date line's place."""

    parent: str | None  # the body above, e.g. "UBND TỈNH BẮC GIANG"; None: a placeholder
    ward: str | None  # its unit name, e.g. "Phường Hòa Bình (cũ)"; None: not known


async def letterhead(db: Database, unit: str | None, parent: str | None) -> Letterhead:
    """The ward that files the report: the one above `unit`, or the only ward in units.yaml."""
    async with db.reading() as conn:
        tree = await unit_tree(conn)
    rows = tree.units.values()
    start = next((u.id for u in rows if u.code == unit), None) if unit else None
    above = tree.chain(int(start)) if start is not None else [int(u.id) for u in rows]
    wards = [tree.units[u] for u in above if tree.units[u].kind == "ward"]
    return Letterhead(parent, wards[0].name if len(wards) == 1 else None)


def write_docx(
    report: Mapping[str, Any],
    path: Path,
    head: Letterhead,
    plan_titles: Sequence[str],
    today: date,
    w: Wording,
) -> None:
    doc = Document()
    _page(doc)
    _header(doc, w, head, today)
    _title(doc, w, report, plan_titles)
    _contents(doc, w, report)
    _reach(doc, w, report)
    _awareness(doc, w, report)
    _left_for_official(doc, w, report)
    _footer(doc, w)
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


def _header(doc: Any, w: Wording, head: Letterhead, today: date) -> None:
    ward = re.sub(r"\s*\(.*?\)", "", head.ward or w.docx("unknown_ward")).strip()
    place = re.sub(r"^(phường|xã|thị trấn)\s+", "", ward, flags=re.IGNORECASE)
    left, right = _two_columns(doc, (Cm(7), Cm(9.5)))
    _line(left, (head.parent or w.docx("parent")).upper(), size=12, first=True)
    _line(left, w.docx("issuer", ward).upper(), bold=True, size=12)
    _line(left, SHORT_RULE, size=8)
    _line(left, w.docx("number"), size=13)
    _line(right, w.docx("nation"), bold=True, size=12, first=True)
    _line(right, w.docx("motto"), bold=True)
    _line(right, LONG_RULE, size=8)
    _line(right, w.docx("place_and_date", place, today), italic=True)


def _two_columns(doc: Any, widths: tuple[Any, Any]) -> tuple[_Cell, _Cell]:
    table = doc.add_table(rows=1, cols=2)
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    table.autofit = False
    cells = table.rows[0].cells
    for column, cell, width in zip(table.columns, cells, widths, strict=True):
        column.width = cell.width = width  # Word reads the cells', LibreOffice the grid
    # One block on one page: "Nơi nhận" and the signature never part at a page break.
    table.rows[0]._tr.get_or_add_trPr().append(OxmlElement("w:cantSplit"))
    return cells[0], cells[1]


def _title(doc: Any, w: Wording, report: Mapping[str, Any], plan_titles: Sequence[str]) -> None:
    doc.add_paragraph()
    _line(doc, w.docx("title"), bold=True)
    _line(doc, w.docx("summary", list(plan_titles), report["period"]), bold=True)
    _line(doc, SHORT_RULE, size=8)
    _body(doc, w.docx("source", report["unit"], report["period"]))


def _heading(doc: Any, text: str) -> None:
    p = _line(doc, text, bold=True, align=WD_ALIGN_PARAGRAPH.JUSTIFY)
    p.paragraph_format.first_line_indent = Cm(1)
    p.paragraph_format.space_before = Pt(6)
    p.paragraph_format.keep_with_next = True


def _body(doc: Any, text: str, *, italic: bool = False) -> None:
    p = _line(doc, text, italic=italic, align=WD_ALIGN_PARAGRAPH.JUSTIFY)
    p.paragraph_format.first_line_indent = Cm(1)
    p.paragraph_format.space_after = Pt(6)


def _table(
    doc: Any, header: Sequence[str], rows: Sequence[Sequence[str]], first: float = 4.5
) -> None:
    """A grid over the text width: the first column (names) `first` cm wide, the others
    sharing the rest."""
    table = doc.add_table(rows=1, cols=len(header))
    table.style = "Table Grid"
    for cell, text in zip(table.rows[0].cells, header, strict=True):
        _line(cell, text, bold=True, size=12, first=True)
    for row in rows:
        for i, (cell, text) in enumerate(zip(table.add_row().cells, row, strict=True)):
            align = WD_ALIGN_PARAGRAPH.LEFT if i == 0 else WD_ALIGN_PARAGRAPH.CENTER
            _line(cell, text, size=12, align=align, first=True)
    table.autofit = False
    rest = (TEXT_WIDTH_CM - first) / (len(header) - 1)
    for i, column in enumerate(table.columns):
        column.width = Cm(first if i == 0 else rest)  # LibreOffice reads the grid, Word cells
        for cell in column.cells:
            cell.width = column.width
    doc.add_paragraph()


def _contents(doc: Any, w: Wording, report: Mapping[str, Any]) -> None:
    _heading(doc, w.docx("part", 1))
    if not report["posts"]:
        _body(doc, w.docx("no_posts"))
    else:
        _body(doc, w.docx("posts_sent", report["totals"]))
    for post in report["posts"]:
        _body(doc, w.docx("post", post))
    _body(doc, w.docx("activities_lead"))
    if not report["activities"]:
        _body(doc, w.docx("no_activities"))
        return
    header = [w.words("column", c) for c in ("day", "unit", "activity", "theme", "participants")]
    rows = [
        [w.words("day", a["held_on"]), a["unit"]["name"], w.words("kind", a["kind"]),
         a["theme"] or "—", w.docx("participants", a["participants"])]
        for a in report["activities"]
    ]  # fmt: skip
    _table(doc, header, rows, first=2.7)


FIGURE_ROWS = (
    *("sent_chats", "audience", "acknowledged", "acknowledged_rate", "answered", "understood"),
    *("understood_rate", "engaged", "engaged_rate", "failed", "uncertain"),
)
REACH_COLUMNS = (
    *("sent_chats", "audience", "acknowledged", "acknowledged_rate", "answered"),
    "understood_rate",
)


def _reach(doc: Any, w: Wording, report: Mapping[str, Any]) -> None:
    _heading(doc, w.docx("part", 2))
    totals = report["totals"]
    _body(doc, w.docx("table", "totals"))
    rows = [[w.words("label", k), w.words("value", totals[k])] for k in ("posts", *FIGURE_ROWS)]
    _table(doc, [w.words("column", "figure"), w.words("column", "result")], rows, first=11)
    if NO_DATA in report["notes"]:
        _body(doc, w.docx("nothing_sent"))
    if AUDIENCE_FROM_REPLIES in report["notes"]:
        _body(doc, w.docx("audience_from_replies"))
    _body(doc, w.docx("table", "kpis"))
    header = [w.words("column", c) for c in ("kpi", "target", "achieved", "status")]
    kpis = [
        [k["description"], w.words("target", k["target"]), w.docx("achieved", k),
         w.words("status", k["status"])]
        for k in report["kpis"]
    ]  # fmt: skip
    _table(doc, header, kpis or [_none(w, header)], first=7)
    for kpi in report["kpis"]:
        if kpi["estimate"]:
            _body(doc, w.docx("estimate", kpi), italic=True)
    header = [w.words("column", "unit"), *(w.words("label", k) for k in REACH_COLUMNS)]
    _body(doc, w.docx("table", "schools"))
    rows = [_reach_row(w, r["name"], r) for r in report["by_school"]]
    _table(doc, header, rows or [_none(w, header)])
    _body(doc, w.docx("table", "audiences"))
    header[0] = w.words("column", "audience")
    rows = [_reach_row(w, w.words("audience", r["name"]), r) for r in report["by_audience"]]
    _table(doc, header, rows or [_none(w, header)])
    _chart(doc, w, report)


def _reach_row(w: Wording, name: str, row: Mapping[str, Any]) -> list[str]:
    return [name, *(w.words("value", row[k]) for k in REACH_COLUMNS)]


def _none(w: Wording, header: Sequence[str]) -> list[str]:
    return [w.words("no_data"), *("" for _ in header[1:])]


def _chart(doc: Any, w: Wording, report: Mapping[str, Any]) -> None:
    """The reach chart as a picture, by school when a page can show them, else by audience;
    the table of its figures under it, for screen readers and for copying."""
    by = "school" if 0 < len(report["by_school"]) <= MAX_BARS else "audience"
    if by == "school":
        rows = [(r["name"], r) for r in report["by_school"]]
    else:
        rows = [(w.words("audience", r["name"]), r) for r in report["by_audience"]]
    _body(doc, w.docx("table", f"chart_{by}"))
    doc.paragraphs[-1].paragraph_format.keep_with_next = True  # the lead-in stays with its chart
    if not rows:
        _body(doc, w.words("no_data"))
        return
    labels = {k: w.words("label", k) for k in SERIES}
    png = reach_png(rows, labels, w.docx("chart_axis"), lambda n: w.words("value", n))
    doc.add_picture(io.BytesIO(png), width=Mm(160))
    picture = doc.paragraphs[-1]
    picture.alignment = WD_ALIGN_PARAGRAPH.CENTER
    doc.inline_shapes[-1]._inline.docPr.set("descr", w.docx("chart_alt", by))
    header = [w.words("column", by), *labels.values()]
    _table(doc, header, [[name, *(w.words("value", r[k]) for k in SERIES)] for name, r in rows])


def _awareness(doc: Any, w: Wording, report: Mapping[str, Any]) -> None:
    totals = report["totals"]
    evidence = [w.docx("understood", totals), w.docx("acknowledged", totals)]
    evidence += [w.docx("audience_understood", r) for r in report["by_audience"] if r["answered"]]
    feedback = report["feedback"]
    evidence += [w.docx("feedback", feedback), *(w.docx("theme", t) for t in feedback["themes"])]
    _part(doc, w, 3, evidence)


def _left_for_official(doc: Any, w: Wording, report: Mapping[str, Any]) -> None:
    kpis = report["kpis"]
    models = [w.docx("model", m) for m in report["models"]]
    _part(
        doc, w, 4, [*models, *(w.docx("kpi", k) for k in kpis if k["metric"] == "exemplar_models")]
    )
    unmeasured = [w.docx("kpi", k) for k in kpis if k["status"] == "not_measurable"]
    asked = report["open_questions"]
    listed = asked["questions"][:MAX_QUESTIONS]  # all of them are in the XLSX
    questions = [w.docx("questions", asked), *(w.docx("question", q) for q in listed)]
    if len(asked["questions"]) > len(listed):
        questions.append(w.docx("more_questions", len(asked["questions"]) - len(listed)))
    _part(doc, w, 5, [w.docx("failed_sends", report["totals"]), *unmeasured, *questions])
    _part(doc, w, 6, [w.docx("kpi", k) for k in kpis if k["status"] == "behind"])


def _part(doc: Any, w: Wording, number: int, evidence: Sequence[str]) -> None:
    """A part the official writes, with its evidence listed under it."""
    _heading(doc, w.docx("part", number))
    _body(doc, w.docx("fill_in"), italic=True)
    _body(doc, w.docx("evidence"))
    doc.paragraphs[-1].paragraph_format.keep_with_next = True  # never alone at a page's foot
    for line in evidence or [w.words("no_data")]:
        _body(doc, f"- {line}")


def _footer(doc: Any, w: Wording) -> None:
    doc.add_paragraph()
    left, right = _two_columns(doc, (Cm(8), Cm(8)))
    _line(left, w.docx("recipients_title"), bold=True, italic=True, size=12,
          align=WD_ALIGN_PARAGRAPH.LEFT, first=True)  # fmt: skip
    for recipient in w.docx("recipients").splitlines():
        _line(left, recipient, size=11, align=WD_ALIGN_PARAGRAPH.LEFT)
    for i, line in enumerate(w.docx("signs_for").splitlines()):
        _line(right, line, bold=True, first=i == 0)
    for _ in range(4):
        _line(right, "")
    _line(right, w.docx("signer"), bold=True)
