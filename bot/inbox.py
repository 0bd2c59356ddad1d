"""The inbox: inbound updates are persisted first, deduplicated on the platform's key, then
handled once, in arrival order, by the router.

Handling is at least once: a crash between a handler's commit and the row being marked handled
runs the handler again, so handlers are idempotent (see handlers/ack.py).
Logs name the platform, the update key and exception types only, never message text or names;
a handled row keeps no payload.
"""

from __future__ import annotations

import asyncio
import logging
import time
import traceback
from collections.abc import Mapping, Sequence
from typing import Any, Protocol

from sqlmodel import col, select, update

from bot.delivery.replies import ReplySender
from bot.domain import InboundEvent, Platform, Reply
from bot.platforms.base import MalformedUpdate, PlatformAdapter
from bot.storage.db import Database, insert_ignoring_duplicates
from bot.storage.models import InboxUpdate, utcnow

log = logging.getLogger(__name__)


class EventRouter(Protocol):
    """What the inbox hands events to (bot.dispatch.Dispatcher): each returns the replies to
    send once the event is recorded as handled."""

    async def dispatch(self, event: InboundEvent, adapter: PlatformAdapter) -> Sequence[Reply]: ...

    async def give_up(self, event: InboundEvent, adapter: PlatformAdapter) -> Sequence[Reply]:
        """The event failed for the last time: tell the person, if there is a way."""
        ...


class Inbox:
    def __init__(
        self,
        db: Database,
        adapters: Mapping[Platform, PlatformAdapter],
        router: EventRouter,
        *,
        replies: ReplySender | None = None,
        max_attempts: int = 3,
        retry_delay: float = 2.0,
        sweep_interval: float = 1.0,
        poll_timeout: float = 30.0,
        max_poll_backoff: float = 60.0,
        handler_timeout: float = 60.0,
    ) -> None:
        self.db = db
        self.adapters = adapters
        self.router = router
        self.replies = replies or ReplySender()
        self.max_attempts = max_attempts
        self.retry_delay = retry_delay  # times the attempt number, before a failed row is retried
        self.sweep_interval = sweep_interval
        self.poll_timeout = poll_timeout
        self.max_poll_backoff = max_poll_backoff
        self.handler_timeout = handler_timeout
        self._wake = asyncio.Event()
        self._lock = asyncio.Lock()
        self._not_before: dict[int, float] = {}  # row id → monotonic time of its next attempt

    async def accept(self, platform: Platform, raw: Mapping[str, Any]) -> bool:
        """Persist one raw update; False if it was already there. Raises MalformedUpdate."""
        key = self.adapters[platform].update_key(raw)
        stmt = (
            insert_ignoring_duplicates(self.db, InboxUpdate)
            .values(platform=platform.value, key=key, payload=dict(raw), received_at=utcnow())
            .returning(col(InboxUpdate.id))
        )
        async with self.db.session() as session:
            inserted = (await session.exec(stmt)).scalar_one_or_none() is not None
            await session.commit()
        if inserted:
            self._wake.set()
        return inserted

    async def process_pending(self, limit: int = 100) -> int:
        """Handle up to `limit` unhandled rows in arrival order; returns how many were tried."""
        async with self._lock:
            now = time.monotonic()
            waiting = [i for i, t in self._not_before.items() if t > now]
            query = select(InboxUpdate).where(
                col(InboxUpdate.handled_at).is_(None),
                # rows of a platform not configured now wait for it rather than block the queue
                col(InboxUpdate.platform).in_([p.value for p in self.adapters]),
            )
            if waiting:
                query = query.where(col(InboxUpdate.id).not_in(waiting))
            async with self.db.session() as session:
                rows = (await session.exec(query.order_by(col(InboxUpdate.id)).limit(limit))).all()
            for row in rows:
                await self._handle(row)
            return len(rows)

    async def _handle(self, row: InboxUpdate) -> None:
        assert row.id is not None
        where = f"{row.platform} update {row.key}"
        adapter = self.adapters[Platform(row.platform)]
        attempts = row.attempts + 1
        try:
            event = adapter.parse_update(row.payload)
        except Exception as e:  # MalformedUpdate, or an adapter bug: never block the queue
            log.warning("inbox: %s dropped, cannot parse it: %s", where, type(e).__name__)
            await self._finish(row.id, attempts, type(e).__name__)
            return
        if event is None:
            log.debug("inbox: %s ignored (a kind loa does not read)", where)
            await self._finish(row.id, attempts, None)
            return
        try:
            async with asyncio.timeout(self.handler_timeout):
                replies = await self.router.dispatch(event, adapter)
        except Exception as e:
            log.warning(
                "inbox: %s failed (attempt %d of %d): %s at %s",
                where, attempts, self.max_attempts, type(e).__name__, _where(e),
            )  # fmt: skip
            if attempts < self.max_attempts:
                self._not_before[row.id] = time.monotonic() + self.retry_delay * attempts
                await self._update(row.id, attempts=attempts, error=type(e).__name__)
                return
            await self._finish(row.id, attempts, type(e).__name__)
            await self._give_up(event, adapter, where)
            return
        log.debug("inbox: %s handled", where)
        await self._finish(row.id, attempts, None)
        await self.replies.send(adapter, replies)

    async def _give_up(self, event: InboundEvent, adapter: PlatformAdapter, where: str) -> None:
        try:
            await self.replies.send(adapter, await self.router.give_up(event, adapter))
        except Exception as e:
            log.warning("inbox: %s: could not tell the sender: %s", where, type(e).__name__)

    async def _finish(self, row_id: int, attempts: int, error: str | None) -> None:
        """Mark the row handled and drop its payload: what people wrote, and who they are, is
        not kept once handled (the key stays, to recognise the update if it comes again)."""
        self._not_before.pop(row_id, None)
        await self._update(row_id, handled_at=utcnow(), attempts=attempts, error=error, payload={})

    async def _update(self, row_id: int, **values: Any) -> None:
        async with self.db.session() as session:
            await session.exec(
                update(InboxUpdate).where(col(InboxUpdate.id) == row_id).values(**values)
            )
            await session.commit()

    async def run(self, stop: asyncio.Event) -> None:
        """Handle rows as they arrive (woken by `accept`, swept every `sweep_interval`)."""
        while not stop.is_set():
            self._wake.clear()
            try:
                busy = await self.process_pending() > 0
            except Exception as e:  # the database is away: wait for the next sweep
                log.warning("inbox: processing failed: %s", type(e).__name__)
                busy = False
            if not busy:
                await _wait_any((self._wake, stop), self.sweep_interval)

    async def poll_forever(self, platform: Platform, stop: asyncio.Event) -> None:
        """Long polling: persist every update of a batch before polling again, since the next
        poll confirms the batch to the platform."""
        adapter = self.adapters[platform]
        backoff = min(1.0, self.max_poll_backoff)
        while not stop.is_set():
            poll = asyncio.ensure_future(adapter.poll(self.poll_timeout))
            if not await _race(poll, stop):
                return  # an unconfirmed batch is delivered again on the next start
            try:
                updates = poll.result()
            except Exception as e:
                log.warning("inbox: %s poll failed: %s; again in %.0f s",
                            platform.value, type(e).__name__, backoff)  # fmt: skip
                await _wait_any((stop,), backoff)
                backoff = min(backoff * 2, self.max_poll_backoff)
                continue
            backoff = min(1.0, self.max_poll_backoff)
            for raw in updates:
                if not await self._persist(platform, raw, stop):
                    return

    async def _persist(
        self, platform: Platform, raw: Mapping[str, Any], stop: asyncio.Event
    ) -> bool:
        """Accept one polled update, retrying while the database is away; False on stop."""
        delay = min(1.0, self.max_poll_backoff)
        while not stop.is_set():
            try:
                await self.accept(platform, raw)
                return True
            except MalformedUpdate:
                log.warning("inbox: %s sent an update without a key; skipped", platform.value)
                return True
            except Exception as e:
                log.warning("inbox: cannot persist a %s update: %s; again in %.0f s",
                            platform.value, type(e).__name__, delay)  # fmt: skip
                await _wait_any((stop,), delay)
                delay = min(delay * 2, self.max_poll_backoff)
        return False


def _where(error: BaseException) -> str:
    """The innermost frames of a traceback as file:line, without the message (it may quote
    personal data) and without locals."""
    frames = traceback.extract_tb(error.__traceback__)[-3:]
    return " < ".join(f"{f.filename.rsplit('/', 1)[-1]}:{f.lineno}" for f in reversed(frames))


async def _wait_any(events: tuple[asyncio.Event, ...], seconds: float) -> None:
    waiters = [asyncio.ensure_future(e.wait()) for e in events]
    try:
        await asyncio.wait(waiters, timeout=seconds, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for w in waiters:
            w.cancel()


async def _race(task: asyncio.Future[Any], stop: asyncio.Event) -> bool:
    """Wait for `task`; if `stop` comes first, cancel it and return False."""
    stopping = asyncio.ensure_future(stop.wait())
    try:
        await asyncio.wait((task, stopping), return_when=asyncio.FIRST_COMPLETED)
    finally:
        stopping.cancel()
    if task.done():
        return True
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)
    return False
