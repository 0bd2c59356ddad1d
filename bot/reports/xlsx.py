"""The report's tables as a workbook (`loa report --format xlsx`), one sheet per table, from the
report dict of bot/reports/report.py: figures are numbers, rates numbers shown as percentages,
days dates."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date
from pathlib import Path
from typing import Any

from openpyxl import Workbook
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from bot.reports.report import AUDIENCE_FROM_REPLIES, NO_DATA
from bot.reports.wording import FIGURES, RATES, Wording
from bot.services.activities import PARTICIPANTS
from bot.services.classify import SENTIMENTS

PERCENT = "0.0%"
DAY = "dd/mm/yyyy"


def write_xlsx(report: Mapping[str, Any], path: Path, w: Wording) -> None:
    book = Workbook()
    _totals(book.active, w, report)
    _kpis(book.create_sheet(), w, report["kpis"])
    rows = report["by_school"]
    _reach(book.create_sheet(), w, "schools", "school", [(r["name"], r) for r in rows])
    audiences = [(w.words("audience", r["name"]), r) for r in report["by_audience"]]
    _reach(book.create_sheet(), w, "audiences", "audience", audiences)
    posts = [(r["title"], r) for r in report["posts"]]
    _reach(book.create_sheet(), w, "posts", "post", posts)
    _activities(book.create_sheet(), w, report["activities"])
    _models(book.create_sheet(), w, report["models"])
    _feedback(book.create_sheet(), w, report["feedback"])
    _questions(book.create_sheet(), w, report["open_questions"])
    book.save(str(path))


def _totals(sheet: Any, w: Wording, report: Mapping[str, Any]) -> None:
    sheet.title = w.xlsx("sheet", "totals")
    totals = report["totals"]
    _header(sheet, [w.words("column", "figure"), w.words("column", "result")])
    sheet.append([w.words("label", "posts"), totals["posts"]])
    for key in FIGURES:
        sheet.append([w.words("label", key), _value(key, totals[key])])
        _percent(sheet, key, sheet.max_row, 2)
    if NO_DATA in report["notes"]:
        sheet.append([w.xlsx("nothing_sent")])
    if AUDIENCE_FROM_REPLIES in report["notes"]:
        sheet.append([w.xlsx("audience_from_replies")])
    _widths(sheet, [42, 14])


def _kpis(sheet: Worksheet, w: Wording, kpis: Sequence[Mapping[str, Any]]) -> None:
    sheet.title = w.xlsx("sheet", "kpis")
    columns = ("plan", "kpi", "target", "achieved", "status", "note")
    _header(sheet, [w.words("column", c) for c in columns])
    for k in kpis:
        percent = k["target"]["unit"] == "percent"
        achieved = k["achieved"]
        value = round(achieved / 100, 6) if percent and achieved is not None else achieved
        note = w.words("no_data") if k["status"] == "not_measurable" else ""
        if k["estimate"]:
            note = w.xlsx("estimate")
        target, status = w.words("target", k["target"]), w.words("status", k["status"])
        sheet.append([k["plan"], k["description"], target, value, status, note])
        if percent:
            sheet.cell(sheet.max_row, 4).number_format = PERCENT
    _widths(sheet, [16, 60, 16, 12, 16, 18])


def _reach(
    sheet: Worksheet,
    w: Wording,
    name: str,
    first: str,
    rows: Sequence[tuple[str, Mapping[str, Any]]],
) -> None:
    """Sheet `name` of reach rows, its first column (`first`) naming each row."""
    sheet.title = w.xlsx("sheet", name)
    _header(sheet, [w.words("column", first), *(w.words("label", k) for k in FIGURES)])
    for label, row in rows:
        sheet.append([label, *(_value(k, row[k]) for k in FIGURES)])
        for column, key in enumerate(FIGURES, start=2):
            _percent(sheet, key, sheet.max_row, column)
    _widths(sheet, [40, *(16 for _ in FIGURES)])


def _activities(sheet: Worksheet, w: Wording, held: Sequence[Mapping[str, Any]]) -> None:
    """One row per activity: its day a date cell, the people taking part numbers."""
    sheet.title = w.xlsx("sheet", "activities")
    columns = ("day", "unit", "activity", "plan", "theme", *PARTICIPANTS)
    _header(sheet, [w.words("column", c) for c in columns])
    for a in held:
        day = date.fromisoformat(a["held_on"]) if a["held_on"] else None
        counts = [a["participants"][p] for p in PARTICIPANTS]
        sheet.append([day, a["unit"]["name"], w.words("kind", a["kind"]), a["plan"], a["theme"],
                      *counts])  # fmt: skip
        sheet.cell(sheet.max_row, 1).number_format = DAY
    _widths(sheet, [12, 32, 24, 16, 40, 16, 12, 12])


def _models(sheet: Worksheet, w: Wording, models: Sequence[Mapping[str, Any]]) -> None:
    sheet.title = w.xlsx("sheet", "models")
    _header(sheet, [w.words("column", c) for c in ("model", "school", "approved_on")])
    for m in models:
        sheet.append([m["title"], m["school"]["name"], date.fromisoformat(m["approved_on"])])
        sheet.cell(sheet.max_row, 3).number_format = DAY
    _widths(sheet, [48, 32, 12])


def _feedback(sheet: Worksheet, w: Wording, feedback: Mapping[str, Any]) -> None:
    """One row per category: its count and per sentiment (numbers), then its examples."""
    sheet.title = w.xlsx("sheet", "feedback")
    columns = ("category", "feedback", *SENTIMENTS, "examples")
    _header(sheet, [w.words("column", c) for c in columns])
    for t in feedback["themes"]:
        counts = [t["sentiment"][s] for s in SENTIMENTS]
        examples = "\n".join(t["examples"])
        sheet.append([w.words("category", t["category"]), t["count"], *counts, examples])
    _widths(sheet, [28, 12, 12, 12, 12, 80])


def _questions(sheet: Worksheet, w: Wording, asked: Mapping[str, Any]) -> None:
    """One row per open question: the day asked a date, its age in days a number."""
    sheet.title = w.xlsx("sheet", "questions")
    columns = ("asked_on", "unit", "audience", "age_days", "overdue", "question")
    _header(sheet, [w.words("column", c) for c in columns])
    for q in asked["questions"]:
        audience = w.words("audience", q["audience"]) if q["audience"] else None
        sheet.append([date.fromisoformat(q["asked_on"]), q["unit"], audience, q["age_days"],
                      w.xlsx("yes", q["overdue"]), q["text"]])  # fmt: skip
        sheet.cell(sheet.max_row, 1).number_format = DAY
    _widths(sheet, [12, 32, 18, 12, 16, 80])


def _value(key: str, value: Any) -> Any:
    """Rates are JSON percents (66.7); a cell holds the fraction and shows it as 66.7%."""
    return round(value / 100, 6) if key in RATES and value is not None else value


def _percent(sheet: Worksheet, key: str, row: int, column: int) -> None:
    if key in RATES:
        sheet.cell(row, column).number_format = PERCENT


def _header(sheet: Worksheet, names: Sequence[str]) -> None:
    sheet.append(list(names))
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    sheet.freeze_panes = "B2"


def _widths(sheet: Worksheet, widths: Sequence[int]) -> None:
    for i, width in enumerate(widths, start=1):
        sheet.column_dimensions[get_column_letter(i)].width = width
