"""The sender: claims due deliveries of one channel, sends them, records what happened.

A delivery is committed `in_flight` before its request leaves, and the slot it holds is freed
only once its result is committed, so at any moment at most `concurrency` rows are in flight:
after a crash, that is the most that can be `uncertain`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import time
import uuid
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError

from bot.config import QuietHours
from bot.delivery.limits import ChatLimiter, Pacer
from bot.domain import Button, ChatType, OutboundMessage, Platform
from bot.platforms.base import (
    Ambiguous,
    BadRequest,
    ChatGone,
    ChatMigrated,
    PlatformAdapter,
    Postponed,
    RateLimited,
    Retryable,
    SendError,
)
from bot.storage import deliveries
from bot.storage.db import Database
from bot.storage.deliveries import Claimed, Outcome, Result
from bot.storage.models import Occurrence, table_of, utcnow

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 5
BACKOFF_BASE_S = 2.0
BACKOFF_CAP_S = 300.0
IDLE_POLL_S = 0.5
CLAIM_AHEAD_S = 0.05  # claim rows this far ahead of their departure slot
EXPIRY_EVERY_S = 10.0
DB_RETRY_S = (0.2, 0.5, 1.0, 2.0, 5.0)
RECOUNT_AFTER = timedelta(hours=1)  # a group's cached member count is good for this long
POSTPONED = "postponed: "  # the error of a delivery waiting for a quota (zalo_oa_quota.py)
STALL_AFTER_S = 120.0  # work waiting and no progress this long: /healthz reports the sender


class ChannelSender:
    """Sends the outbox of one platform through its adapter, within its limits."""

    def __init__(
        self,
        db: Database,
        adapter: PlatformAdapter,
        *,
        concurrency: int = 64,
        quiet_hours: QuietHours | None = None,
        tz: Callable[[datetime], datetime] | None = None,
        clock: Callable[[], datetime] = utcnow,
        rate_per_s: float | None = None,
        retry_base_s: float = BACKOFF_BASE_S,
        stall_after_s: float = STALL_AFTER_S,
    ) -> None:
        self.db, self.adapter, self.concurrency = db, adapter, concurrency
        self.platform = str(adapter.platform)
        limits = adapter.limits
        self._pacer = Pacer(limits.global_per_s if rate_per_s is None else rate_per_s)
        self._chats = ChatLimiter(limits.group_per_min, limits.private_per_s)
        self._quiet, self._local, self._clock = quiet_hours, tz, clock
        self._name = uuid.uuid4().hex  # marks the rows this sender claims
        self._held: set[int] = set()  # rows claimed and not yet recorded
        # Rows whose result the database refused to write in any form: still in flight under
        # our name, never released to be sent again (they become uncertain at the next start).
        self._unwritable: set[int] = set()
        self._unsure = False  # a turn failed: it may have claimed rows we never heard of
        self._wake = asyncio.Event()  # new deliveries were enqueued
        self._poke = asyncio.Event()  # anything the loop waits for happened
        self._results: list[Result] = []
        self._messages: dict[int, tuple[str, tuple[Button, ...]]] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        self._rng = random.Random()
        self._retry_base = retry_base_s
        self._stall_after = stall_after_s
        self._progress_at = time.monotonic()  # a turn last committed, or found nothing to do
        self._failures = 0  # turns failed in a row
        self._turning = False  # a turn is waiting for the database

    def stalled(self) -> str | None:
        """Why this sender is stuck, or None: it has work (rows held, results to record, a
        turn it cannot finish) and has made no progress for `stall_after_s`. Waiting out a
        platform's 429 pause is not being stuck."""
        idle = not (self._held or self._results or self._turning or self._failures)
        if idle:
            return None
        quiet = time.monotonic() - self._progress_at
        if quiet < self._stall_after:
            return None
        return (
            f"no progress for {quiet:.0f}s with {len(self._held)} rows held "
            f"and {self._failures} failed turns in a row"
        )

    @property
    def limiters(self) -> tuple[Pacer, ChatLimiter]:
        """This channel's pace and per-chat limits, for replies to share (bot.delivery.replies)."""
        return self._pacer, self._chats

    def wake(self) -> None:
        """New deliveries were enqueued: look now rather than at the next poll."""
        self._wake.set()
        self._poke.set()

    async def run(self, stop: asyncio.Event) -> None:
        """Send until `stop` is set, then finish what is in flight and return (drain).

        Each turn is one transaction: record the sends that finished, claim as many new rows
        as there are free slots and rate tokens. A turn that fails (the database is away)
        keeps its results, and their slots, for the next try; nothing new is claimed.
        """
        loop = asyncio.get_running_loop()
        watcher = asyncio.create_task(_set_when(stop, self._poke))
        try:
            await self._turns(stop, loop)
        finally:
            watcher.cancel()

    async def _turns(self, stop: asyncio.Event, loop: asyncio.AbstractEventLoop) -> None:
        next_poll, next_expiry = 0.0, 0.0
        while True:
            results, self._results = self._results, []
            wanted, wait = 0, IDLE_POLL_S
            looking = not stop.is_set() and (self._wake.is_set() or loop.time() >= next_poll)
            if looking:
                free = self.concurrency - len(self._held) + len(results)
                if free > 0:
                    wanted, wait = self._pacer.promise(free, CLAIM_AHEAD_S)
            elif not stop.is_set():
                wait = next_poll - loop.time()
            if results or wanted:
                self._turning = True
                try:
                    if wanted and loop.time() >= next_expiry:
                        await deliveries.expire(self.db, now=self._clock())
                        next_expiry = loop.time() + EXPIRY_EVERY_S
                    turn = await deliveries.record_and_claim(
                        self.db,
                        results,
                        self.platform,
                        wanted,
                        now=self._clock(),
                        quiet_for=self._quiet_audiences(),
                        sender=self._name,
                        holding=self._held.union(self._unwritable).difference(
                            r.delivery_id for r in results
                        )
                        if self._unsure
                        else None,
                    )
                    self._failures, self._unsure = 0, False
                except (SQLAlchemyError, OSError) as e:
                    self._unsure = True
                    self._results[:0] = results
                    self._pacer.release(wanted)
                    delay = DB_RETRY_S[min(self._failures, len(DB_RETRY_S) - 1)]
                    self._failures += 1
                    log.warning(
                        "database turn failed (%s); retrying in %.1fs", type(e).__name__, delay
                    )
                    await asyncio.sleep(delay)
                    continue
                finally:
                    self._turning = False
                self._progress_at = time.monotonic()
                claimed = turn.claimed
                self._held.difference_update(r.delivery_id for r in results)
                self._unwritable.update(turn.unrecorded)
                self._held.update(c.id for c in claimed)
                self._pacer.release(wanted - len(claimed))
                claimed = await self._with_messages(claimed)
                if wanted and not claimed:  # nothing due: look again at the next poll or wake
                    self._wake.clear()
                    next_poll = loop.time() + IDLE_POLL_S
                    self._chats.forget_idle()
                if any(r.outcome in (Outcome.MIGRATED, Outcome.RETRY) for r in results):
                    next_poll = 0.0  # a migrated row is due at once
                for c in claimed:
                    task = asyncio.create_task(self._send(c))
                    self._tasks.add(task)
                    task.add_done_callback(self._tasks.discard)
                if claimed:
                    continue
            if stop.is_set() and len(self._held) == 0 and not self._results:
                return
            if not self._results:
                self._poke.clear()
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(min(max(wait, 0.001), IDLE_POLL_S)):
                        await self._poke.wait()

    def _quiet_audiences(self) -> tuple[str, ...]:
        if self._quiet is None or self._local is None:
            return ()
        return self._quiet.held_now(self._local(self._clock()).time())

    async def _with_messages(self, claimed: list[Claimed]) -> list[Claimed]:
        """The claimed rows whose message is known; if the database fails here, the rows go
        back to waiting (nothing was sent) and return on a later turn."""
        missing = {c.occurrence_id for c in claimed} - self._messages.keys()
        if missing:
            table = table_of(Occurrence)
            query = select(table.c.id, table.c.text, table.c.buttons).where(table.c.id.in_(missing))
            try:
                async with self.db.reading() as conn:
                    for occurrence_id, text, buttons in await conn.execute(query):
                        self._messages[occurrence_id] = (
                            text,
                            tuple(Button(b["label"], b["data"]) for b in buttons or ()),
                        )
            except (SQLAlchemyError, OSError) as e:
                log.warning("loading messages failed (%s); will retry", type(e).__name__)
                self._pacer.release(len(claimed))
                self._results += [
                    Result(
                        c.id,
                        c.chat_id,
                        Outcome.RETRY,
                        next_attempt_at=self._clock(),
                        penalty=False,
                        error="database unavailable",
                    )
                    for c in claimed
                ]
                return []
        return claimed

    async def _send(self, c: Claimed) -> None:
        text, buttons = self._messages[c.occurrence_id]
        message = OutboundMessage(chat_id=c.platform_chat_id, text=text, buttons=buttons)
        try:
            await self._chats.wait(c.platform_chat_id, c.chat_type == ChatType.GROUP)
            size = await self._recount(c)
            await self._pacer.acquire()
            sent = await self.adapter.send(message)
            result = Result(
                c.id,
                c.chat_id,
                Outcome.SENT,
                message_id=sent.message_id,
                audience_size=c.member_count if size is None else size,
                recounted=size is not None,
            )
        except RateLimited as e:
            self._pacer.pause(e.retry_after)
            resumes = time.monotonic() + e.retry_after
            self._progress_at = max(self._progress_at, resumes)  # waiting it out is no stall
            later = self._clock() + timedelta(seconds=e.retry_after)
            result = Result(
                c.id,
                c.chat_id,
                Outcome.RETRY,
                next_attempt_at=later,
                penalty=False,
                error="rate limited",
            )
        except Postponed as e:  # a quota would be passed: wait, never dropped (POSTPONED)
            result = Result(
                c.id,
                c.chat_id,
                Outcome.RETRY,
                next_attempt_at=e.until,
                penalty=False,
                error=f"{POSTPONED}{e}",
            )
        except ChatMigrated as e:
            result = (
                Result(c.id, c.chat_id, Outcome.FAILED, error="bad_request: migrated twice")
                if c.migrated
                else Result(c.id, c.chat_id, Outcome.MIGRATED, new_chat_id=e.new_chat_id)
            )
        except ChatGone as e:
            result = Result(c.id, c.chat_id, Outcome.CHAT_GONE, error=f"chat_gone: {e}")
        except BadRequest as e:
            result = Result(c.id, c.chat_id, Outcome.FAILED, error=f"bad_request: {e}")
        except Retryable as e:
            result = self._retry_or_fail(c, f"retryable: {e}")
        except Ambiguous as e:
            result = Result(c.id, c.chat_id, Outcome.UNCERTAIN, error=f"ambiguous: {e}")
        except Exception as e:  # unknown: the request may have left, so never resend blindly
            log.exception("unexpected error sending delivery %s", c.id)
            result = Result(c.id, c.chat_id, Outcome.UNCERTAIN, error=type(e).__name__)
        self._results.append(result)
        self._poke.set()

    async def _recount(self, c: Claimed) -> int | None:
        """A group's member count, fetched again when the cached one is over an hour old (reach
        is counted over people, so it must be current); None: the cached one stands."""
        fresh = c.member_count_at is not None and self._clock() - c.member_count_at < RECOUNT_AFTER
        if c.chat_type != ChatType.GROUP or fresh or not self.adapter.capabilities.member_count:
            return None
        try:
            return await self.adapter.member_count(c.platform_chat_id)
        except SendError as e:  # the send itself will meet the same trouble, if it lasts
            log.info("member count of chat %s failed: %s", c.chat_id, type(e).__name__)
            return None

    def _retry_or_fail(self, c: Claimed, error: str) -> Result:
        if c.attempts + 1 >= MAX_ATTEMPTS:
            return Result(c.id, c.chat_id, Outcome.FAILED, error=f"{error} (gave up)")
        ceiling = min(BACKOFF_CAP_S, self._retry_base * 2**c.attempts)
        delay = ceiling / 2 + self._rng.uniform(0, ceiling / 2)  # backoff with jitter
        return Result(
            c.id,
            c.chat_id,
            Outcome.RETRY,
            next_attempt_at=self._clock() + timedelta(seconds=delay),
            error=error,
        )


class Sender:
    """One ChannelSender per platform adapter. `rates` overrides a platform's global rate."""

    def __init__(
        self,
        db: Database,
        adapters: Mapping[Platform, PlatformAdapter],
        *,
        rates: Mapping[Platform, float | None] | None = None,
        **options: Any,
    ) -> None:
        rates = rates or {}
        self.channels = [
            ChannelSender(db, adapter, rate_per_s=rates.get(platform), **options)
            for platform, adapter in adapters.items()
        ]

    def wake(self) -> None:
        for channel in self.channels:
            channel.wake()

    def stalls(self) -> dict[str, str]:
        """Each stuck channel's platform and why (see ChannelSender.stalled)."""
        found = ((c.platform, c.stalled()) for c in self.channels)
        return {platform: why for platform, why in found if why is not None}

    async def run(self, stop: asyncio.Event) -> None:
        await asyncio.gather(*(c.run(stop) for c in self.channels))


async def _set_when(source: asyncio.Event, target: asyncio.Event) -> None:
    await source.wait()
    target.set()
