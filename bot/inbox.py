"""The inbox: inbound updates are persisted first, deduplicated on the platform's key, then
handled once by the router, concurrently across chats and in arrival order within one.

Updates wait in lanes, one per chat (a person's private conversation is a chat): a lane handles
its next update only once the previous one is handled and its replies are sent, and a failed
update is retried in its lane before the next, so nothing is reordered and one slow chat holds
up only itself. At most `max_lanes` lanes handle at once.

Handling is at least once: a crash between a handler's commit and the row being marked handled
runs the handler again, so handlers are idempotent (see handlers/ack.py). Rows are marked
handled, and new ones inserted, in batches (group commit). A handled row is kept, without its
payload, for `DEDUPE_WINDOW` to recognise the update if the platform sends it again: Telegram
keeps an unconfirmed update for 24 hours.
Logs name the platform, the update key and exception types only, never message text or names.
"""

from __future__ import annotations

import asyncio
import logging
import time
import traceback
from collections import deque
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol

from sqlalchemy import bindparam, delete
from sqlmodel import col, select, update

from bot.batches import Batcher
from bot.delivery.replies import ReplySender
from bot.domain import ChatType, InboundEvent, Platform, Reply
from bot.platforms.base import MalformedUpdate, PlatformAdapter
from bot.storage.db import Database, insert_ignoring_duplicates
from bot.storage.models import InboxUpdate, table_of, utcnow
from bot.turns import WriteTurns

log = logging.getLogger(__name__)

DEDUPE_WINDOW = timedelta(hours=48)
FORGET_EVERY_S = 3600.0
MAX_QUEUED = 10_000  # updates held in memory; more wait in the database for a sweep


class EventRouter(Protocol):
    """What the inbox hands events to (bot.dispatch.Dispatcher): each returns the replies to
    send once the event is recorded as handled."""

    async def dispatch(self, event: InboundEvent, adapter: PlatformAdapter) -> Sequence[Reply]: ...

    async def give_up(self, event: InboundEvent, adapter: PlatformAdapter) -> Sequence[Reply]:
        """The event failed for the last time: tell the person, if there is a way."""
        ...


@dataclass(slots=True)
class _Update:
    id: int
    platform: Platform
    key: str
    payload: dict[str, Any]
    attempts: int = 0
    unreadable: str | None = None  # why its payload could not be parsed


_Mark = tuple[int, int, str | None]  # row id, attempts, error: the row was handled


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
        max_lanes: int = 64,
        max_handling: int | None = None,
        sweep_interval: float = 1.0,
        poll_timeout: float = 30.0,
        max_poll_backoff: float = 60.0,
        handler_timeout: float = 60.0,
        stall_after_s: float = 180.0,
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
        self.stall_after_s = stall_after_s  # past a handler's timeout and its retry's delay
        self._slots = asyncio.Semaphore(max_lanes)
        # Few handlers run at once (lanes sending replies do not count): they share this
        # process's one core with the webhook, whose acknowledgements must stay fast (more
        # did not handle faster, and acknowledged slower).
        self._handling = asyncio.Semaphore(max_handling or (2 if db.is_sqlite else 4))
        # On SQLite, with its one writer, each session a handler opens takes a turn with the
        # inbox's own writes (accepts first) and the other handlers' sessions: a turn for as
        # long as a transaction may write, not for a whole update.
        self._turns = WriteTurns(1 if db.is_sqlite else max_lanes)
        self._handler_turns = self._turns if db.is_sqlite else None
        self._lanes: dict[tuple[str, str], deque[tuple[_Update, InboundEvent | None]]] = {}
        self._lane_tasks: set[asyncio.Task[None]] = set()
        self._taken: set[int] = set()  # rows in a lane of this process
        self._progress_at = time.monotonic()  # the last row finished, or work began after none
        self._stop = asyncio.Event()
        self._running = False  # `run` is on: accepted rows go straight to their lane
        self._inserts: Batcher[_Update, int | None] = Batcher(self._insert)
        # a lane waits for its mark before its replies: a little longer gathers far more
        self._marks: Batcher[_Mark, None] = Batcher(self._mark_handled, gather_s=0.01)
        table = table_of(InboxUpdate)
        self._insert_statement = insert_ignoring_duplicates(db, table).returning(
            table.c.id, table.c.platform, table.c.key
        )

    async def accept(self, platform: Platform, raw: Mapping[str, Any]) -> bool:
        """Persist one raw update; False if it was already there. Raises MalformedUpdate.
        Concurrent calls are inserted together, in one transaction."""
        key = self.adapters[platform].update_key(raw)
        row = _Update(0, platform, key, dict(raw))
        row_id = await self._inserts(row)
        if row_id is None:
            return False
        row.id = row_id
        if self._running and len(self._taken) < MAX_QUEUED:
            self._submit(row)
        return True

    async def _insert(self, rows: list[_Update]) -> list[int | None]:
        """Insert a batch; the id of each row inserted, None for a duplicate (of a stored row or
        of an earlier one in the batch)."""
        firsts: dict[tuple[str, str], _Update] = {}
        for row in rows:
            firsts.setdefault((row.platform.value, row.key), row)
        now = utcnow()
        values = [
            {"platform": p, "key": k, "payload": r.payload, "received_at": now, "attempts": 0}
            for (p, k), r in firsts.items()
        ]
        async with self._turns.turn(urgent=True), self.db.engine.begin() as conn:
            # one statement for every batch size: compiled once, sent as multi-row inserts
            result = await conn.execute(self._insert_statement, values)
            inserted = {(p, k): i for i, p, k in result.all()}
        return [
            inserted.get((r.platform.value, r.key)) if firsts[(r.platform.value, r.key)] is r
            else None
            for r in rows
        ]  # fmt: skip

    async def process_pending(self, limit: int = 100) -> int:
        """Take up to `limit` unhandled rows from the database into their lanes and wait until
        every lane is done; returns how many were taken."""
        taken = await self._sweep(limit)
        while self._lane_tasks:
            await asyncio.gather(*self._lane_tasks)
        return taken

    async def _sweep(self, limit: int) -> int:
        """Rows the lanes do not hold yet: left by an earlier run, or not handed over."""
        unhandled = select(col(InboxUpdate.id)).where(
            col(InboxUpdate.handled_at).is_(None),
            # rows of a platform not configured now wait for it rather than block the others
            col(InboxUpdate.platform).in_([p.value for p in self.adapters]),
        )
        # A write transaction, not a read session: no mark commits while it reads, so a row it
        # finds unhandled and not in a lane cannot be one a lane just finished (and left).
        async with self.db.session() as session:
            ids = (await session.exec(unhandled.order_by(col(InboxUpdate.id)))).all()
            # only the rows not in a lane yet are read whole (payloads cost to decode)
            wanted = [i for i in ids if i not in self._taken][:limit]
            query = select(InboxUpdate).where(col(InboxUpdate.id).in_(wanted))
            stored = (
                (await session.exec(query.order_by(col(InboxUpdate.id)))).all() if wanted else []
            )
        rows = [
            _Update(r.id, Platform(r.platform), r.key, r.payload, r.attempts)
            for r in stored
            if r.id is not None and r.id not in self._taken
        ]
        for row in rows:
            self._submit(row)
        return len(rows)

    def _submit(self, row: _Update) -> None:
        if row.id in self._taken:
            return
        if not self._taken:
            self._progress_at = time.monotonic()  # idle until now: not a stall
        self._taken.add(row.id)
        try:
            event = self.adapters[row.platform].parse_update(row.payload)
        except Exception as e:  # MalformedUpdate, or an adapter bug: never block a lane
            log.warning("inbox: %s dropped, cannot parse it: %s", _where(row), type(e).__name__)
            event, row.unreadable = None, type(e).__name__
        lane = _lane_of(row, event)
        waiting = self._lanes.get(lane)
        if waiting is None:
            waiting = self._lanes[lane] = deque()
            self._spawn(self._drain(lane, waiting))
        waiting.append((row, event))

    def _spawn(self, coroutine: Any) -> None:
        task = asyncio.create_task(coroutine)
        self._lane_tasks.add(task)
        task.add_done_callback(self._lane_tasks.discard)

    async def _drain(
        self, lane: tuple[str, str], waiting: deque[tuple[_Update, InboundEvent | None]]
    ) -> None:
        """Handle a lane's updates one after the other, retries included."""
        try:
            while waiting and not self._stop.is_set():
                row, event = waiting[0]
                while not await self._attempt(row, event):
                    await _wait_any((self._stop,), self.retry_delay * row.attempts)
                    if self._stop.is_set():
                        return
                waiting.popleft()
                self._taken.discard(row.id)
        except Exception as e:  # a bug here must not leave the lane's rows taken forever
            log.error("inbox: a lane failed: %s at %s", type(e).__name__, _traceback(e))
        finally:
            del self._lanes[lane]
            self._taken.difference_update(row.id for row, _ in waiting)

    async def _attempt(self, row: _Update, event: InboundEvent | None) -> bool:
        """Handle the update once, then send its replies; False if it failed and will be
        tried again. A lane holds one of the `max_lanes` slots while it handles, not while
        its replies wait for their chat's limit (a private chat takes one message a second)."""
        async with self._slots:
            outcome = await self._handle(row, event)
        if outcome is None:
            return False
        if event is not None and outcome:
            await self._reply(self.adapters[row.platform], event, outcome)
        return True

    async def _handle(self, row: _Update, event: InboundEvent | None) -> Sequence[Reply] | None:
        """Handle the update once and mark it handled; the replies to send, or None if it
        failed and will be tried again."""
        if event is None:  # unreadable, or a kind loa does not read
            await self._finish(row, row.unreadable)
            return ()
        adapter = self.adapters[row.platform]
        row.attempts += 1
        try:
            async with self._handling:
                async with asyncio.timeout(self.handler_timeout):
                    with self.db.taking_turns(self._handler_turns):
                        replies = await self.router.dispatch(event, adapter)
        except Exception as e:
            log.warning(
                "inbox: %s failed (attempt %d of %d): %s at %s",
                _where(row), row.attempts, self.max_attempts, type(e).__name__, _traceback(e),
            )  # fmt: skip
            if row.attempts < self.max_attempts:
                await self._update(row.id, attempts=row.attempts, error=type(e).__name__)
                return None
            if await self._finish(row, type(e).__name__):
                return await self._give_up(event, adapter, row)
            return ()
        log.debug("inbox: %s handled", _where(row))
        return replies if await self._finish(row, None) else ()

    async def _give_up(
        self, event: InboundEvent, adapter: PlatformAdapter, row: _Update
    ) -> Sequence[Reply]:
        try:
            return await self.router.give_up(event, adapter)
        except Exception as e:
            log.warning("inbox: %s: could not tell the sender: %s", _where(row), type(e).__name__)
            return ()

    async def _reply(
        self, adapter: PlatformAdapter, event: InboundEvent, replies: Sequence[Reply]
    ) -> None:
        groups = (event.chat_id,) if event.chat_type is ChatType.GROUP and event.chat_id else ()
        try:
            await self.replies.send(adapter, replies, groups, self.adapters)
        except Exception as e:  # a bug in sending must not stop the lane
            log.error("inbox: replies failed: %s at %s", type(e).__name__, _traceback(e))

    async def _finish(self, row: _Update, error: str | None) -> bool:
        """Mark the row handled and drop its payload: what people wrote, and who they are, is
        not kept once handled (the key stays, to recognise the update if it comes again).
        False if the database is away: the row stays unhandled and a later sweep retries it."""
        try:
            await self._marks((row.id, max(row.attempts, 1), error))
        except Exception as e:
            log.warning("inbox: %s not marked handled: %s", _where(row), type(e).__name__)
            return False
        self._progress_at = time.monotonic()
        return True

    def stalled(self) -> str | None:
        """Why the inbox is stuck, or None: updates wait in its lanes and none has finished
        for `stall_after_s` (a handler is given `handler_timeout` at most, then retried)."""
        quiet = time.monotonic() - self._progress_at
        if not self._taken or quiet < self.stall_after_s:
            return None
        return f"no update finished for {quiet:.0f}s with {len(self._taken)} waiting"

    async def _mark_handled(self, marks: list[_Mark]) -> list[None]:
        table = table_of(InboxUpdate)
        stmt = (
            table.update()
            .where(table.c.id == bindparam("row_id"))
            .values(
                handled_at=bindparam("at"),
                attempts=bindparam("n"),
                error=bindparam("err"),
                payload={},
            )
        )
        now = utcnow()
        async with self._turns.turn(urgent=True), self.db.engine.begin() as conn:
            await conn.execute(
                stmt, [{"row_id": i, "at": now, "n": n, "err": err} for i, n, err in marks]
            )
        return [None] * len(marks)

    async def _update(self, row_id: int, **values: Any) -> None:
        async with self.db.session() as session:
            await session.exec(
                update(InboxUpdate).where(col(InboxUpdate.id) == row_id).values(**values)
            )
            await session.commit()

    async def forget_handled(self, now: datetime | None = None) -> int:
        """Delete rows handled more than DEDUPE_WINDOW ago (indexed); returns how many."""
        cutoff = (now or utcnow()) - DEDUPE_WINDOW
        stmt = delete(InboxUpdate).where(col(InboxUpdate.handled_at) < cutoff)
        async with self.db.session() as session:
            result = await session.exec(stmt)
            await session.commit()
        return int(result.rowcount or 0)

    async def run(self, stop: asyncio.Event) -> None:
        """Handle rows as they are accepted; sweep the database every `sweep_interval` for rows
        not handed over (an earlier run's), and forget old keys every hour. On `stop`, the
        updates being handled finish; the rest wait in the database for the next start."""
        self._stop = stop
        self._running = True
        loop = asyncio.get_running_loop()
        next_forget = loop.time()
        try:
            while not stop.is_set():
                try:
                    if loop.time() >= next_forget:
                        next_forget = loop.time() + FORGET_EVERY_S
                        forgotten = await self.forget_handled()
                        log.info("inbox: forgot %d handled updates", forgotten)
                    if len(self._taken) < MAX_QUEUED:
                        await self._sweep(MAX_QUEUED - len(self._taken))
                except Exception as e:  # the database is away: wait for the next sweep
                    log.warning("inbox: sweep failed: %s", type(e).__name__)
                await _wait_any((stop,), self.sweep_interval)
        finally:
            self._running = False
            if self._lane_tasks:
                await asyncio.wait(self._lane_tasks)

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


def _lane_of(row: _Update, event: InboundEvent | None) -> tuple[str, str]:
    """Updates of one chat, or of one person outside chats (a poll answer), keep their order."""
    if event is not None and event.chat_id is not None:
        return row.platform.value, event.chat_id
    if event is not None and event.user is not None:
        return row.platform.value, f"user {event.user.id}"
    return row.platform.value, f"update {row.id}"


def _where(row: _Update) -> str:
    return f"{row.platform.value} update {row.key}"


def _traceback(error: BaseException) -> str:
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
