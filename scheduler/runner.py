"""APScheduler wiring. The only module that imports apscheduler (design rule 2).

Jobs decide WHEN; they only enqueue occurrences and wake the sender — they never send.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from collections.abc import Awaitable, Callable, Sequence
from datetime import timedelta

from apscheduler.events import EVENT_JOB_MISSED, JobExecutionEvent
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.schedulers.base import STATE_RUNNING

from bot.services.broadcasts import Broadcast, enqueue, record_missed
from bot.storage import leases
from bot.storage.db import Database

log = logging.getLogger(__name__)

DEFAULT_MISFIRE_GRACE = timedelta(hours=1)
LEASE = "scheduler"
LEASE_TTL = timedelta(seconds=60)
LEASE_RENEW_S = 15.0
# Chats to send to: a list fixed when scheduled, or a function asked when the job fires.
Chats = Sequence[int] | Callable[[], Awaitable[Sequence[int]]]


class Scheduler:
    """Runs the jobs while this process holds the scheduler lease; stands by otherwise.

    Jobs are keyed by occurrence key, and enqueueing is idempotent on that key, so even a lease
    handed over mid-fire, a double fire or a catch-up yields one occurrence. A job whose time
    passed beyond the misfire grace (loa was down, or standing by) is recorded as a missed
    occurrence, never sent late.
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
        self._scheduled: dict[str, Broadcast] = {}  # by job id, until it runs or is missed
        self._recording: set[asyncio.Task[None]] = set()
        self._aps = AsyncIOScheduler(
            timezone="UTC",
            job_defaults={
                "misfire_grace_time": max(1, int(misfire_grace.total_seconds())),
                "coalesce": True,  # a catch-up fires once, not once per missed run
                "max_instances": 1,
            },
        )
        self._aps.add_listener(self._missed, EVENT_JOB_MISSED)
        _quiet_aps_missed()

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
        if self._recording:
            await asyncio.wait(self._recording, timeout=10)
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

    def broadcast_at(self, broadcast: Broadcast, chats: Chats) -> None:
        """Enqueue `broadcast` for `chats` at its due time. The job id is the occurrence key,
        so scheduling the same firing twice replaces the job instead of doubling it."""
        self._scheduled[broadcast.key] = broadcast
        self._aps.add_job(
            self._enqueue,
            "date",
            run_date=broadcast.due_at,
            args=[broadcast, chats if callable(chats) else list(chats)],
            id=broadcast.key,
            name=broadcast.key,
            replace_existing=True,
        )

    def every(
        self,
        job_id: str,
        job: Callable[[], Awaitable[object]],
        interval: timedelta | None = None,
        **cron: int | str,
    ) -> None:
        """Run `job` (one that finds what is due and enqueues it, idempotently: it may run again
        after a lease hand-over) every `interval`, or on a cron schedule in Vietnam time
        (`day_of_week="mon", hour=7`, `minute="*/10"`), while this process holds the lease; the
        sender is woken after each run. A run missed beyond the misfire grace is skipped."""
        if interval is not None:
            trigger: dict[str, object] = {
                "trigger": "interval",
                "seconds": max(1, int(interval.total_seconds())),
            }
        else:
            trigger = {"trigger": "cron", "timezone": "Asia/Ho_Chi_Minh", **cron}
        self._aps.add_job(
            self._run, args=[job_id, job], id=job_id, name=job_id, replace_existing=True, **trigger
        )

    async def _run(self, job_id: str, job: Callable[[], Awaitable[object]]) -> None:
        try:
            await job()
        except Exception as e:  # one failed run (the database away) must not stop the next ones
            log.warning("job %s failed (%s)", job_id, type(e).__name__)
            return
        self._on_enqueued()

    def job_ids(self) -> list[str]:
        return sorted(job.id for job in self._aps.get_jobs())

    async def _enqueue(self, broadcast: Broadcast, chats: Chats) -> None:
        self._scheduled.pop(broadcast.key, None)
        chat_ids = list(await chats() if callable(chats) else chats)
        occurrence = await enqueue(self._db, broadcast, chat_ids)
        log.info(
            "enqueued occurrence %s (%s) for %d chats", occurrence, broadcast.key, len(chat_ids)
        )
        self._on_enqueued()

    def _missed(self, event: JobExecutionEvent) -> None:
        broadcast = self._scheduled.pop(event.job_id, None)
        if broadcast is not None:  # APScheduler calls listeners on the loop's thread
            task = asyncio.create_task(self._record_missed(broadcast))
            self._recording.add(task)
            task.add_done_callback(self._recording.discard)

    async def _record_missed(self, broadcast: Broadcast) -> None:
        try:
            recorded = await record_missed(self._db, broadcast)
        except Exception as e:  # the database is away: the next start records it
            log.warning(
                "could not record missed occurrence %s (%s)", broadcast.key, type(e).__name__
            )
            return
        if recorded:
            log.warning(
                "missed occurrence %s: due %s, beyond the misfire grace; recorded, not sent",
                broadcast.key,
                f"{broadcast.due_at:%Y-%m-%d %H:%M %z}",
            )


class _NotMissed(logging.Filter):
    """APScheduler's own "was missed by" line would double ours (Scheduler._record_missed)."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "was missed by" not in str(record.msg)


def _quiet_aps_missed() -> None:
    executor_log = logging.getLogger("apscheduler.executors.default")  # where APScheduler says it
    if not any(isinstance(f, _NotMissed) for f in executor_log.filters):
        executor_log.addFilter(_NotMissed())
