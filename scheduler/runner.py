"""APScheduler wiring. The only module that imports apscheduler (design rule 2).

Jobs decide WHEN; they only enqueue occurrences and wake the sender — they never send.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta

from apscheduler.schedulers.asyncio import AsyncIOScheduler

from bot.services.broadcasts import Broadcast, enqueue
from bot.storage.db import Database

log = logging.getLogger(__name__)

DEFAULT_MISFIRE_GRACE = timedelta(hours=1)


class Scheduler:
    def __init__(
        self,
        db: Database,
        on_enqueued: Callable[[], None],
        misfire_grace: timedelta = DEFAULT_MISFIRE_GRACE,
    ) -> None:
        self._db, self._on_enqueued = db, on_enqueued
        self._aps = AsyncIOScheduler(
            timezone="UTC",
            job_defaults={
                "misfire_grace_time": int(misfire_grace.total_seconds()),
                "coalesce": True,  # a catch-up fires once, not once per missed run
                "max_instances": 1,
            },
        )

    def start(self) -> None:
        self._aps.start()

    def shutdown(self) -> None:
        if self._aps.running:
            self._aps.shutdown(wait=False)

    def broadcast_at(self, broadcast: Broadcast, chat_ids: Sequence[int]) -> None:
        """Enqueue `broadcast` for `chat_ids` at its due time. The job id is the occurrence
        key, so scheduling the same firing twice replaces the job instead of doubling it."""
        self._aps.add_job(
            self._enqueue,
            "date",
            run_date=broadcast.due_at,
            args=[broadcast, list(chat_ids)],
            id=broadcast.key,
            replace_existing=True,
        )

    def next_run(self, job_id: str) -> datetime | None:
        job = self._aps.get_job(job_id)
        return None if job is None else job.next_run_time

    async def _enqueue(self, broadcast: Broadcast, chat_ids: list[int]) -> None:
        occurrence = await enqueue(self._db, broadcast, chat_ids)
        log.info(
            "enqueued occurrence %s (%s) for %d chats", occurrence, broadcast.key, len(chat_ids)
        )
        self._on_enqueued()
