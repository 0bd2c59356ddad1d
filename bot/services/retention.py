"""Retention of free text (DESIGN, privacy): what people wrote in their own words is kept
`LOA_FREE_TEXT_RETENTION_DAYS`, then dropped; the counts and statuses reports need stay.

Free text today: the details given with a task's answer ("2 buổi, 64 người").
Inbound updates keep no payload once handled (bot/inbox), so they need no purge.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from datetime import datetime, timedelta

from sqlalchemy import update
from sqlmodel import col

from bot.storage.db import Database
from bot.storage.models import TaskAnswer, utcnow

log = logging.getLogger(__name__)


async def purge_free_text(db: Database, keep: timedelta, now: datetime | None = None) -> int:
    """Drop the details of task answers given before `now - keep`; returns how many."""
    cutoff = (now or utcnow()) - keep
    async with db.session() as session:
        dropped = await session.exec(
            update(TaskAnswer)
            .where(col(TaskAnswer.answered_at) < cutoff, col(TaskAnswer.details).is_not(None))
            .values(details=None)
        )
        await session.commit()
    count = int(dropped.rowcount or 0)
    if count:
        log.info("retention: dropped the details of %d task answer(s)", count)
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
