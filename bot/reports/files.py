"""The report as a file: what `loa report` writes and the dashboard's «Báo cáo» page downloads,
from the one generator (bot.reports.report)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from bot.reports.docx import Letterhead, letterhead, write_docx
from bot.reports.period import Period
from bot.reports.report import Content, build_report
from bot.reports.wording import report_wording
from bot.reports.xlsx import write_xlsx
from bot.storage.db import Database

FORMATS = ("docx", "xlsx", "json")
MEDIA_TYPES = {
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "json": "application/json",
}


@dataclass(frozen=True)
class Filed:
    """A report and what its DOCX heads it with."""

    report: dict[str, Any]
    head: Letterhead
    plan_titles: list[str]


async def make_report(
    db: Database,
    content: Content,
    period: Period,
    *,
    unit: str | None = None,
    plan: str | None = None,
    parent_body: str | None = None,
) -> Filed:
    """Raises ReportError on an unknown unit or plan."""
    report = await build_report(db, period, content, unit=unit, plan=plan)
    head = await letterhead(db, unit, parent_body)
    plans = [plan] if plan else sorted({k["plan"] for k in report["kpis"]})
    return Filed(report, head, [content.plans[p].title for p in plans])


def write_report(filed: Filed, fmt: str, out: Path, *, content_dir: Path, tz: ZoneInfo) -> None:
    """Write the report to `out` as `fmt` (blocking: a web handler runs it in a thread).
    Raises TemplateError."""
    if fmt == "json":
        out.write_text(json.dumps(filed.report, ensure_ascii=False, indent=2) + "\n", "utf-8")
        return
    words = report_wording(content_dir, tz)
    if fmt == "xlsx":
        write_xlsx(filed.report, out, words)
    else:
        today = datetime.now(tz).date()
        write_docx(filed.report, out, filed.head, filed.plan_titles, today, words)
