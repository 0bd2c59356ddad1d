"""What people said, for the report's parts 3 and 5: the themes of their feedback (the
classifier's categories, with counts per sentiment and short examples) and the questions still
open. Both read feedback_items (questions, suggestions, misinformation reports; labelled when
stored, bot/services/labels.py), counted in the database. Examples and question texts are
excerpts without phone numbers, addresses, links or the names the code detects
(bot/services/redact.py). Shapes: docs/reports.md, "What people said".
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Final

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.services import questions
from bot.services.classify import CATEGORIES, SENTIMENTS
from bot.services.reach import Filter
from bot.services.redact import excerpt
from bot.storage.models import FeedbackItem, table_of

RECORDED: Final = "recorded"
EXAMPLES: Final = 3  # per category
SHORT: Final = 120  # characters of an example or a question


def _in(f: Filter) -> list[Any]:
    """Items created in the period, of the filter's units (None: all, unplaced ones too)."""
    t = table_of(FeedbackItem)
    where = [t.c.created_at >= f.period.start, t.c.created_at < f.period.end]
    if f.units is not None:
        where.append(t.c.unit_id.in_(list(f.units)))
    return where


async def feedback_themes(conn: AsyncConnection, f: Filter) -> dict[str, Any]:
    """The feedback of the period and units by category, most frequent first: its count, the
    count per sentiment and up to EXAMPLES examples (the latest). Items not labelled (their
    text dropped before the classifier read it) are counted apart."""
    t = table_of(FeedbackItem)
    counts = (
        sa.select(t.c.category, t.c.sentiment, sa.func.count())
        .where(*_in(f))
        .group_by(t.c.category, t.c.sentiment)
    )
    said = sa.func.coalesce(t.c.reported_text, t.c.text)  # a report: the rumour it points at
    latest = (
        sa.select(
            t.c.category,
            said.label("said"),
            sa.func.row_number()
            .over(partition_by=t.c.category, order_by=(t.c.created_at.desc(), t.c.id.desc()))
            .label("rank"),
        )
        .where(*_in(f), t.c.category.is_not(None), said.is_not(None))
        .subquery()
    )
    examples = (
        sa.select(latest.c.category, latest.c.said)
        .where(latest.c.rank <= EXAMPLES)
        .order_by(latest.c.category, latest.c.rank)
    )
    by: dict[str, dict[str, int]] = {}
    unlabelled = 0
    for category, sentiment, n in (await conn.execute(counts)).all():
        if category is None or sentiment is None:
            unlabelled += n
            continue
        by.setdefault(category, dict.fromkeys(SENTIMENTS, 0))[sentiment] = n
    said_by: dict[str, list[str]] = {}
    for category, text in (await conn.execute(examples)).all():
        said_by.setdefault(category, []).append(excerpt(text, SHORT))
    order = {c: i for i, c in enumerate(CATEGORIES)}
    themes: list[dict[str, Any]] = [
        {
            "category": category,
            "count": sum(sentiments.values()),
            "sentiment": sentiments,
            "examples": said_by.get(category, []),
        }
        for category, sentiments in by.items()
    ]
    themes.sort(key=lambda t: (-t["count"], order.get(t["category"], len(order))))
    total = sum(t["count"] for t in themes) + unlabelled
    return {"status": RECORDED, "total": total, "unlabelled": unlabelled, "themes": themes}


async def open_questions(conn: AsyncConnection, f: Filter, now: datetime) -> dict[str, Any]:
    """The questions people asked in the period and units that nobody has answered (or marked
    handled) by `now`, oldest first, with their age at `now` and whether they are overdue
    (open past 96 h: what officials are shown)."""
    found = await questions.pending(conn, f.units, now, f.period.start, f.period.end)
    rows = await questions.still_open(conn, f.units, f.period.start, f.period.end)
    return {
        "status": RECORDED,
        "open": found.open,
        "overdue": found.overdue,
        "questions": [
            {
                "id": item_id,
                "asked_on": asked.astimezone(f.period.tz).date().isoformat(),
                "asked_at": asked.isoformat(),
                "age_days": (now - asked).days,
                "overdue": now - asked >= questions.ESCALATE_AFTER,
                "unit": unit,
                "audience": audience,
                "text": excerpt(text, SHORT) if text else None,
            }
            for item_id, asked, unit, audience, text in rows
        ],
    }
