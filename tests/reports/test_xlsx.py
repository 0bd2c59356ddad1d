"""The report's workbook, read back with openpyxl: one sheet per table, exactly the JSON's
numbers as numbers, rates as percentages (the scenario of the JSON end-to-end test)."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

from openpyxl import load_workbook

from bot.cli import main
from bot.config import DEFAULT_CONTENT_DIR
from bot.reports.period import quarter_of
from bot.reports.report import build_report
from bot.reports.wording import report_wording
from bot.reports.xlsx import write_xlsx
from bot.storage.models import utcnow
from tests.chatworld import World
from tests.reports.test_reach_end_to_end import CONTENT, play
from tests.reports.test_report_cli import loa  # noqa: F401  (the fixture)

FIGURES = ("sent_chats", "audience", "ack_audience", "acknowledged", "acknowledged_rate",
           "answered", "understood", "understood_rate", "engaged", "engaged_rate", "failed",
           "uncertain", "expired", "waiting")  # fmt: skip
RATES = {"acknowledged_rate", "understood_rate", "engaged_rate"}


def _as_json(key: str, cell: Any) -> Any:
    """A cell's value in the JSON's terms: a rate cell holds 0.667 shown as 66.7%."""
    if key in RATES and cell.value is not None:
        assert cell.number_format == "0.0%", f"{key} is shown as a percentage"
        return round(cell.value * 100, 1)
    return cell.value


def _table(sheet: Any) -> dict[str, dict[str, Any]]:
    rows = list(sheet.iter_rows(min_row=2))
    return {row[0].value: {k: _as_json(k, c) for k, c in zip(FIGURES, row[1:], strict=True)}
            for row in rows}  # fmt: skip


def _figures(row: dict[str, Any]) -> dict[str, Any]:
    return {k: row[k] for k in FIGURES}


async def test_the_workbook_carries_the_json_numbers(any_world: World, tmp_path: Path) -> None:
    await play(any_world)
    period = quarter_of((utcnow() + timedelta(hours=7)).date())
    report = await build_report(any_world.db, period, CONTENT, now=period.end)
    write_xlsx(report, tmp_path / "bao-cao.xlsx", report_wording(DEFAULT_CONTENT_DIR))
    book = load_workbook(tmp_path / "bao-cao.xlsx")

    assert book.sheetnames == ["Tổng hợp", "Chỉ tiêu", "Theo trường", "Theo đối tượng", "Theo bài",
                               "Hoạt động", "Mô hình", "Ý kiến phản hồi",
                               "Câu hỏi chưa trả lời"]  # fmt: skip
    totals = book["Tổng hợp"]
    assert [c.value for c in totals[1]] == ["Chỉ số", "Kết quả"]
    assert totals["B2"].value == report["totals"]["posts"] == 2
    rows = totals.iter_rows(min_row=3, max_row=2 + len(FIGURES))
    values = [_as_json(k, row[1]) for k, row in zip(FIGURES, rows, strict=True)]
    assert values == [report["totals"][k] for k in FIGURES]
    assert all(isinstance(v, int | float) for v in values), "numbers, not text"
    assert totals["B7"].value == 0.667 and totals["B7"].number_format == "0.0%"

    schools = _table(book["Theo trường"])
    assert schools == {row["name"]: _figures(row) for row in report["by_school"]}
    audiences = _table(book["Theo đối tượng"])
    assert audiences == {
        {"parents": "Phụ huynh", "staff": "Cán bộ"}[row["name"]]: _figures(row)
        for row in report["by_audience"]
    }
    posts = _table(book["Theo bài"])
    assert posts == {row["title"]: _figures(row) for row in report["posts"]}
    assert book["Theo trường"]["A1"].value == "Trường"
    assert book["Theo trường"].column_dimensions["A"].width >= 30, "names are readable"

    kpis = list(book["Chỉ tiêu"].iter_rows(min_row=2, values_only=True))
    assert [(r[1], r[4]) for r in kpis] == [
        (k["description"], {"behind": "Chưa đạt", "not_measurable": "Chưa đo được"}[k["status"]])
        for k in report["kpis"]
    ]
    achieved = [None if r[3] is None else round(float(str(r[3])) * 100, 1) for r in kpis]
    assert achieved == [k["achieved"] for k in report["kpis"]]


def test_a_period_without_data_gives_a_workbook_of_zeros(loa: Path) -> None:  # noqa: F811
    out = loa / "q4.xlsx"
    assert main(["report", "--period", "2026-Q4", "--format", "xlsx", "-o", str(out)]) == 0
    book = load_workbook(out)
    totals = book["Tổng hợp"]
    assert totals["B2"].value == totals["B3"].value == 0
    assert totals["B7"].value is None, "no rate without a base"
    assert "chưa có bài nào được gửi" in str(totals.cell(totals.max_row, 1).value)
    assert book["Theo trường"].max_row == 1, "headers only"
    assert book["Chỉ tiêu"].max_row == 6, "every target of the plan"
