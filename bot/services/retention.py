"""Retention of free text (DESIGN, privacy): what people wrote in their own words is kept
`LOA_FREE_TEXT_RETENTION_DAYS`, then dropped; the counts and statuses reports need stay.

Free text today: the details given with a task's result ("Đã hoàn thành: 2 buổi, 64 người").
Inbound updates keep no payload once handled (bot/inbox), so they need no purge.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from datetime import datetime, timedelta

from sqlmodel import col, select

from bot.storage.db import Database
from bot.storage.models import Task, utcnow

log = logging.getLogger(__name__)
DETAILS = ": "  # a task result is "<status>: <details>" (handlers/tasks.py)


async def purge_free_text(db: Database, keep: timedelta, now: datetime | None = None) -> int:
    """Drop the details of task results given before `now - keep`; returns how many."""
    cutoff = (now or utcnow()) - keep
    async with db.session() as session:
        query = select(Task).where(col(Task.result_at) < cutoff, col(Task.result).contains(DETAILS))
        tasks = (await session.exec(query)).all()
        for task in tasks:
            assert task.result is not None
            task.result = task.result.split(DETAILS, 1)[0]
            session.add(task)
        await session.commit()
    if tasks:
        log.info("retention: dropped the details of %d task result(s)", len(tasks))
    return len(tasks)


async def run(db: Database, keep: timedelta, stop: asyncio.Event, every: float = 3600.0) -> None:
    """Purge once an hour until `stop`."""
    while not stop.is_set():
        try:
            await purge_free_text(db, keep)
        except Exception as e:  # the database is away: next hour
            log.warning("retention purge failed: %s", type(e).__name__)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), every)
