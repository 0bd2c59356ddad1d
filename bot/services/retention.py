"""Retention of free text (DESIGN, privacy): what people wrote in their own words is kept
`LOA_FREE_TEXT_RETENTION_DAYS`, then dropped; the counts and statuses reports need stay.

Free text today: the details given with a task's answer ("2 buổi, 64 người"), the notes
of an activity report (/baocao), and questions, misinformation reports and their answers.
Inbound updates keep no payload once handled (bot/inbox), so they need no purge.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from datetime import datetime, timedelta

from sqlalchemy import or_, update
from sqlmodel import col

from bot.storage.db import Database
from bot.storage.models import ActivityReport, FeedbackItem, ItemStatus, TaskAnswer, utcnow

log = logging.getLogger(__name__)


async def purge_free_text(db: Database, keep: timedelta, now: datetime | None = None) -> int:
    """Drop the details of task answers given, the notes of activity reports last changed, and
    the text of questions and reports asked and closed, before `now - keep`; returns how many."""
    cutoff = (now or utcnow()) - keep
    async with db.session() as session:
        details = await session.exec(
            update(TaskAnswer)
            .where(col(TaskAnswer.answered_at) < cutoff, col(TaskAnswer.details).is_not(None))
            .values(details=None)
        )
        notes = await session.exec(
            update(ActivityReport)
            .where(col(ActivityReport.updated_at) < cutoff, col(ActivityReport.notes).is_not(None))
            .values(notes=None)
        )
        asked = await session.exec(
            update(FeedbackItem)
            .where(
                col(FeedbackItem.created_at) < cutoff,
                col(FeedbackItem.status) != ItemStatus.OPEN,  # still to answer: kept till then
                or_(
                    col(FeedbackItem.text).is_not(None),
                    col(FeedbackItem.reported_text).is_not(None),
                    col(FeedbackItem.answer).is_not(None),
                ),
            )
            .values(text=None, reported_text=None, answer=None)
        )
        await session.commit()
    count = int(details.rowcount or 0) + int(notes.rowcount or 0) + int(asked.rowcount or 0)
    if count:
        log.info("retention: dropped the free text of %d answer(s) and report(s)", count)
    return count


async def run(db: Database, keep: timedelta, stop: asyncio.Event, every: float = 3600.0) -> None:
    """Purge once an hour until `stop`."""
    while not stop.is_set():
        try:
            await purge_free_text(db, keep)
        except Exception as e:  # the database is away: next hour
            log.warning("retention purge failed: %s", type(e).__name__)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), every)
