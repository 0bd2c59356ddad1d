"""The report's tables as a workbook (`loa report --format xlsx`), one sheet per table, from the
report dict of bot/reports/report.py: figures are numbers, rates numbers shown as percentages."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from openpyxl import Workbook
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from bot.reports import wording as w

PERCENT = "0.0%"
ROW_FIGURES = tuple(w.FIGURES)  # every figure a reach row carries


def write_xlsx(report: Mapping[str, Any], path: Path) -> None:
    book = Workbook()
    _totals(book.active, report)
    _kpis(book.create_sheet(), report["kpis"])
    rows = report["by_school"]
    _reach(book.create_sheet("Theo trường"), "Trường", [(r["name"], r) for r in rows])
    audiences = [(w.audience(r["name"]), r) for r in report["by_audience"]]
    _reach(book.create_sheet("Theo đối tượng"), "Đối tượng", audiences)
    _reach(book.create_sheet("Theo bài"), "Bài", [(r["title"], r) for r in report["posts"]])
    book.save(str(path))


def _totals(sheet: Any, report: Mapping[str, Any]) -> None:
    sheet.title = "Tổng hợp"
    totals = report["totals"]
    _header(sheet, ["Chỉ số", "Kết quả"])
    sheet.append([w.POSTS, totals["posts"]])
    for key in ROW_FIGURES:
        sheet.append([w.FIGURES[key], _value(key, totals[key])])
        _percent(sheet, key, sheet.max_row, 2)
    if report["notes"]:
        sheet.append([f"Ghi chú: trong kỳ chưa có bài nào được gửi ({w.NO_DATA})."])
    _widths(sheet, [42, 14])


def _kpis(sheet: Worksheet, kpis: Sequence[Mapping[str, Any]]) -> None:
    sheet.title = "Chỉ tiêu"
    _header(sheet, ["Kế hoạch", "Chỉ tiêu", "Mục tiêu", "Đạt được", "Đánh giá", "Ghi chú"])
    for k in kpis:
        percent = k["target"]["unit"] == "percent"
        achieved = k["achieved"]
        value = round(achieved / 100, 6) if percent and achieved is not None else achieved
        note = w.NO_DATA if k["status"] == "not_measurable" else ""
        row = [k["plan"], k["description"], w.target(k), value, w.STATUS[k["status"]], note]
        sheet.append(row)
        if percent:
            sheet.cell(sheet.max_row, 4).number_format = PERCENT
    _widths(sheet, [16, 60, 16, 12, 16, 18])


def _reach(sheet: Worksheet, first: str, rows: Sequence[tuple[str, Mapping[str, Any]]]) -> None:
    _header(sheet, [first, *(w.FIGURES[k] for k in ROW_FIGURES)])
    for name, row in rows:
        sheet.append([name, *(_value(k, row[k]) for k in ROW_FIGURES)])
        for column, key in enumerate(ROW_FIGURES, start=2):
            _percent(sheet, key, sheet.max_row, column)
    _widths(sheet, [40, *(16 for _ in ROW_FIGURES)])


def _value(key: str, value: Any) -> Any:
    """Rates are JSON percents (66.7); a cell holds the fraction and shows it as 66.7%."""
    return round(value / 100, 6) if key in w.RATES and value is not None else value


def _percent(sheet: Worksheet, key: str, row: int, column: int) -> None:
    if key in w.RATES:
        sheet.cell(row, column).number_format = PERCENT


def _header(sheet: Worksheet, names: Sequence[str]) -> None:
    sheet.append(list(names))
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    sheet.freeze_panes = "B2"


def _widths(sheet: Worksheet, widths: Sequence[int]) -> None:
    for i, width in enumerate(widths, start=1):
        sheet.column_dimensions[get_column_letter(i)].width = width
