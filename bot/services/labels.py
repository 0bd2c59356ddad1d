"""The classifier's labels on what people write, as it is stored: every feedback item
(question, suggestion, misinformation report) gets a category and a sentiment when it is made,
and the notes of an activity report (/baocao) when it is sent (on the report's own row); rows
stored before that get them from `catch_up`, and `source` is what the trends read
(bot/services/trends.py): both kinds of text.

A misinformation report is in the category "misinformation" whatever its words look like: the
person said so by reporting it, and the burst watch counts exactly those. Its sentiment, and both
labels of every other item, are the classifier's.

The model trains on its first use (~0.3 s of CPU): `warm` does that in a thread at `loa run`
start, and `label` does it in a thread too if it comes first, so the event loop never waits.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Final

import sqlalchemy as sa
from sqlalchemy import or_, update
from sqlmodel import col, select

from bot.services import classify
from bot.services.activities import SENT
from bot.services.trends import Feedback, FeedbackSource
from bot.storage.db import Database
from bot.storage.models import ActivityReport, FeedbackItem, ItemKind, table_of, utcnow

log = logging.getLogger(__name__)

CATCH_UP_BATCH: Final = 500  # rows labelled per pass
SWEEP: Final = timedelta(minutes=15)  # how often the scheduler looks for unlabelled rows


async def warm() -> None:
    """Train the model off the event loop (once per process)."""
    await asyncio.to_thread(classify.default)


async def label(text: str) -> classify.Label:
    if classify.default.cache_info().currsize == 0:
        await warm()
    return classify.classify(text)


def words_of(item: FeedbackItem) -> str:
    """What a label is about: the text, and for a report the message it points at too."""
    return " ".join(t for t in (item.reported_text, item.text) if t)


async def stamp(item: FeedbackItem) -> FeedbackItem:
    """Set `item`'s category, sentiment and classified_at (before it is added and committed)."""
    return _apply(item, await label(words_of(item)))


async def stamp_note(report: ActivityReport) -> ActivityReport:
    """Label an activity report's notes as it is sent (again after an edit); no notes, no
    labels. The labels live on the report's row, beside the notes they describe."""
    found = await label(report.notes) if report.notes else None
    report.category = None if found is None else found.category
    report.sentiment = None if found is None else found.sentiment
    report.classified_at = None if found is None else utcnow()
    return report


def _apply(item: FeedbackItem, found: classify.Label) -> FeedbackItem:
    reported = item.kind == ItemKind.MISINFORMATION
    item.category = ItemKind.MISINFORMATION.value if reported else found.category
    item.sentiment, item.classified_at = found.sentiment, utcnow()
    return item


async def catch_up(db: Database, batch: int = CATCH_UP_BATCH) -> int:
    """Label up to `batch` stored items that have text and no label yet; how many it did.
    Items whose text was dropped by retention stay unlabelled (nothing to read)."""
    async with db.session() as session:
        query = (
            select(FeedbackItem)
            .where(
                col(FeedbackItem.classified_at).is_(None),
                or_(
                    col(FeedbackItem.text).is_not(None),
                    col(FeedbackItem.reported_text).is_not(None),
                ),
            )
            .order_by(col(FeedbackItem.id))
            .limit(batch)
        )
        pending = list((await session.exec(query)).all())
    items = table_of(FeedbackItem)
    async with db.session() as session:
        # A backlog may be large: the classifier runs in a thread, not on the event loop.
        await warm()
        found = await asyncio.to_thread(lambda: [classify.classify(words_of(i)) for i in pending])
        for item, one in zip(pending, found, strict=True):
            _apply(item, one)
            # Only a row still unlabelled: the handler may have stamped it meanwhile.
            await session.exec(
                update(items)
                .where(items.c.id == item.id, items.c.classified_at.is_(None))
                .values(
                    category=item.category,
                    sentiment=item.sentiment,
                    classified_at=item.classified_at,
                )
            )
        await session.commit()
    notes = await _catch_up_notes(db, batch)
    if pending or notes:
        log.info("labelled %d stored feedback item(s), %d report note(s)", len(pending), notes)
    return len(pending) + notes


async def _catch_up_notes(db: Database, batch: int) -> int:
    async with db.session() as session:
        query = (
            select(ActivityReport.id, ActivityReport.notes)
            .where(
                ActivityReport.status == SENT,
                col(ActivityReport.classified_at).is_(None),
                col(ActivityReport.notes).is_not(None),
            )
            .order_by(col(ActivityReport.id))
            .limit(batch)
        )
        pending = list((await session.exec(query)).all())
    await warm()
    found = await asyncio.to_thread(lambda: [classify.classify(n or "") for _, n in pending])
    reports, now = table_of(ActivityReport), utcnow()
    async with db.session() as session:
        for (report_id, _), one in zip(pending, found, strict=True):
            await session.exec(
                update(reports)
                .where(reports.c.id == report_id, reports.c.classified_at.is_(None))
                .values(category=one.category, sentiment=one.sentiment, classified_at=now)
            )
        await session.commit()
    return len(pending)


async def catch_up_all(db: Database) -> int:
    """`catch_up` until nothing is left: at `loa run` start, beside the service."""
    done = 0
    while n := await catch_up(db):
        done += n
    return done


def source(db: Database) -> FeedbackSource:
    """The trends' source: labelled feedback items of a unit, created in [start, end)."""

    async def read(start: datetime, end: datetime) -> Iterable[Feedback]:
        t, r = table_of(FeedbackItem), table_of(ActivityReport)
        said = sa.func.coalesce(t.c.reported_text + " " + t.c.text, t.c.reported_text, t.c.text)
        items = sa.select(t.c.unit_id, t.c.created_at, t.c.category, t.c.sentiment, said).where(
            t.c.created_at >= start,
            t.c.created_at < end,
            t.c.unit_id.is_not(None),
            t.c.category.is_not(None),
            t.c.sentiment.is_not(None),
        )
        # A report's notes count from when it was sent (drafts are nobody's feedback yet).
        notes = sa.select(r.c.unit_id, r.c.sent_at, r.c.category, r.c.sentiment, r.c.notes).where(
            r.c.status == SENT,
            r.c.sent_at >= start,
            r.c.sent_at < end,
            r.c.category.is_not(None),
            r.c.sentiment.is_not(None),
        )
        async with db.reading() as conn:
            rows = (await conn.execute(sa.union_all(items, notes))).all()
        return [Feedback(*row) for row in rows]

    return read
