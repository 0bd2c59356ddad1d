"""APScheduler wiring. The only module that imports apscheduler (design rule 2).

Jobs decide WHEN; they only enqueue occurrences and wake the sender — they never send.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from collections.abc import Callable, Sequence
from datetime import timedelta

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.schedulers.base import STATE_RUNNING

from bot.services.broadcasts import Broadcast, enqueue
from bot.storage import leases
from bot.storage.db import Database

log = logging.getLogger(__name__)

DEFAULT_MISFIRE_GRACE = timedelta(hours=1)
LEASE = "scheduler"
LEASE_TTL = timedelta(seconds=60)
LEASE_RENEW_S = 15.0


class Scheduler:
    """Runs the jobs while this process holds the scheduler lease; stands by otherwise.

    Jobs are keyed by occurrence key, and enqueueing is idempotent on that key, so even a lease
    handed over mid-fire, a double fire or a catch-up yields one occurrence.
    """

    def __init__(
        self,
        db: Database,
        on_enqueued: Callable[[], None],
        misfire_grace: timedelta = DEFAULT_MISFIRE_GRACE,
        lease_renew_s: float = LEASE_RENEW_S,
    ) -> None:
        self._db, self._on_enqueued = db, on_enqueued
        self._name = uuid.uuid4().hex
        self._keeper: asyncio.Task[None] | None = None
        self._renew_s = lease_renew_s
        self._aps = AsyncIOScheduler(
            timezone="UTC",
            job_defaults={
                "misfire_grace_time": int(misfire_grace.total_seconds()),
                "coalesce": True,  # a catch-up fires once, not once per missed run
                "max_instances": 1,
            },
        )

    @property
    def active(self) -> bool:
        """Whether this process holds the lease and runs the jobs."""
        return bool(self._aps.state == STATE_RUNNING)  # running, not paused

    def start(self) -> None:
        self._aps.start(paused=True)
        self._keeper = asyncio.create_task(self._keep_lease())

    async def shutdown(self) -> None:
        if self._keeper is not None:
            self._keeper.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._keeper
        if self._aps.running:
            self._aps.shutdown(wait=False)
            with contextlib.suppress(Exception):  # the database may be what is failing
                await leases.let_go(self._db, LEASE, self._name)

    async def _keep_lease(self) -> None:
        while True:
            try:
                held = await leases.hold(self._db, LEASE, self._name, LEASE_TTL)
            except Exception as e:  # the database is away: stop firing until it is back
                log.warning("scheduler lease check failed (%s)", type(e).__name__)
                held = False
            if held and not self.active:
                log.info("scheduler: this process runs the jobs")
                self._aps.resume()
            elif not held and self.active:
                log.warning("scheduler: another process holds the lease; standing by")
                self._aps.pause()
            await asyncio.sleep(self._renew_s)

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

    async def _enqueue(self, broadcast: Broadcast, chat_ids: list[int]) -> None:
        occurrence = await enqueue(self._db, broadcast, chat_ids)
        log.info(
            "enqueued occurrence %s (%s) for %d chats", occurrence, broadcast.key, len(chat_ids)
        )
        self._on_enqueued()
