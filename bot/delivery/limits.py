"""Client-side sending limits of one channel (one bot on one platform).

Telegram answers 429 when a bot goes over ~30 messages/s overall, 20/min into one group or
about 1/s into one private chat. We stay under those limits instead of bouncing off them.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import Callable

# Pace a little under the nominal rate: request arrival times jitter by a few milliseconds,
# and the platform counts arrivals, not departures.
HEADROOM = 0.975
# Departures are scheduled on an absolute clock: a send that finds its slot already past (its
# claim came late, the loop was busy) may take a slot this many intervals back, so the sends
# behind it catch up instead of the whole schedule sliding later (the lost time was never
# made up, 0.94 of the rate at 20/s). Bounded: never more than this many at once.
CATCH_UP_SLOTS = 2
# However late sends bunch up after a stall of this process (a GC pause, a slow turn), no
# one-second window holds more than this share of the limit, rounded down. (Rounded up, the
# cap reached the limit itself, and arrival jitter let the platform count one send too many.)
WINDOW_CAP = 0.985


class Pacer:
    """The channel-wide pace, and the pause every sender obeys after a 429.

    Departures are spaced evenly on an absolute schedule; a late one may take a slot up to
    `CATCH_UP_SLOTS` back (a token bucket with a small burst), so the schedule does not drift.
    The sender claims rows a little ahead of their departure (`promise`), so that the database
    round trip of a claim does not eat into the rate; each send then waits for its own slot
    (`acquire`).
    """

    def __init__(self, per_second: float, clock: Callable[[], float] = time.monotonic) -> None:
        self._interval = 1.0 / (per_second * HEADROOM) if per_second > 0 else 0.0
        self._clock = clock
        self._next = clock()  # the earliest free departure slot
        self._catch_up = CATCH_UP_SLOTS * self._interval  # how far back a late send may go
        # The last departures, as many as one window may hold (none kept without a limit).
        most = int(per_second * WINDOW_CAP)  # rounded down: arrivals jitter, keep a margin
        self._departures: deque[float] = deque(maxlen=max(1, most))
        self._capped = per_second > 0
        self._promised = 0  # slots promised to claimed rows that have not acquired them yet
        self._paused_until = 0.0

    def pause(self, seconds: float) -> None:
        self._paused_until = max(self._paused_until, self._clock() + seconds)
        self._next = max(self._next, self._paused_until)

    def promise(self, wanted: int, horizon: float) -> tuple[int, float]:
        """How many more sends (≤ wanted) can depart within `horizon` seconds; if none, how
        many seconds until one can be promised."""
        now = self._clock()
        if self._paused_until > now:
            return 0, self._paused_until - now
        if self._interval == 0.0:
            self._promised += wanted
            return wanted, 0.0
        first_free = self._first_free(now) + self._promised * self._interval
        count = min(wanted, int((now + horizon - first_free) / self._interval) + 1)
        if count <= 0:
            return 0, first_free - horizon - now
        self._promised += count
        return count, 0.0

    def _first_free(self, now: float) -> float:
        """The next departure slot: on schedule, or a little in the past to make up for a late
        send (never before the end of a pause)."""
        return max(self._next, now - self._catch_up, self._paused_until)

    def release(self, unused: int) -> None:
        """Promised slots that no send will use."""
        self._promised = max(0, self._promised - unused)

    async def acquire(self) -> None:
        """Wait for this send's departure slot (and for the end of any pause)."""
        self._promised = max(0, self._promised - 1)
        while True:
            now = self._clock()
            if self._paused_until > now:
                await asyncio.sleep(self._paused_until - now)
                continue
            slot = self._first_free(now)
            self._next = slot + self._interval
            # uvloop's timers tick in whole milliseconds and may wake us early: check again.
            while (early := slot - self._clock()) > 0:
                await asyncio.sleep(early)
            window = self._departures
            while (
                self._capped
                and len(window) == window.maxlen
                and (wait := window[0] + 1.0 - self._clock()) > 0
            ):
                await asyncio.sleep(wait)
            if self._paused_until <= self._clock():
                if self._capped:
                    window.append(self._clock())
                return
            # A 429 arrived while this send waited: take a fresh slot after the pause.


class ChatLimiter:
    """Per-chat limits: at most `group_per_min` in any minute into a group, and
    at least 1/`private_per_s` seconds between two messages into one private chat."""

    def __init__(
        self,
        group_per_min: float,
        private_per_s: float,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._group_max = int(group_per_min * HEADROOM) if group_per_min > 0 else 0
        self._private_gap = 1.0 / (private_per_s * HEADROOM) if private_per_s > 0 else 0.0
        self._clock = clock
        self._sent: dict[str, deque[float]] = {}

    async def wait(self, chat_id: str, is_group: bool) -> None:
        window, limit = (60.0, self._group_max) if is_group else (self._private_gap, 1)
        if limit == 0 or window == 0.0:
            return
        times = self._sent.setdefault(chat_id, deque())
        while True:
            now = self._clock()
            while times and times[0] <= now - window:
                times.popleft()
            if len(times) < limit:
                times.append(now)
                return
            await asyncio.sleep(times[0] + window - now)

    def forget_idle(self) -> None:
        """Drop chats with nothing in their window, so memory follows activity, not history."""
        now = self._clock()
        for chat_id in [c for c, t in self._sent.items() if not t or t[-1] <= now - 60.0]:
            del self._sent[chat_id]
