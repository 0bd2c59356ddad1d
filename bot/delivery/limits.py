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
HEADROOM = 0.97


class Pacer:
    """The channel-wide pace, and the pause every sender obeys after a 429."""

    def __init__(self, per_second: float, clock: Callable[[], float] = time.monotonic) -> None:
        self._interval = 1.0 / (per_second * HEADROOM) if per_second > 0 else 0.0
        self._clock = clock
        self._next_free = clock()  # when the next token is due
        self._paused_until = 0.0

    def pause(self, seconds: float) -> None:
        self._paused_until = max(self._paused_until, self._clock() + seconds)

    async def wait_unpaused(self) -> None:
        while (delay := self._paused_until - self._clock()) > 0:
            await asyncio.sleep(delay)

    async def take(self, wanted: int) -> int:
        """Wait for at least one token; return how many (≤ wanted) may be used now."""
        await self.wait_unpaused()
        if self._interval == 0.0:
            return wanted
        now = self._clock()
        if self._next_free > now:
            await asyncio.sleep(self._next_free - now)
            now = self._clock()
        # Tokens do not accumulate while idle beyond one: no bursts after a quiet spell.
        self._next_free = max(self._next_free, now - self._interval) + self._interval
        return 1

    def give_back(self, unused: int) -> None:
        if self._interval and unused > 0:
            self._next_free -= unused * self._interval


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
