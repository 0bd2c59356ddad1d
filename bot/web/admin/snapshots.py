"""Figures computed at most once a minute per period and scope, shared by every page and viewer
that asks for the same: at a province's size one reach over a quarter takes seconds, a page
must answer in a fraction of one. A value past its age is still served while a fresh one is
computed in the background, so only the first view of a period and scope waits for it."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Hashable
from typing import Generic, TypeVar

log = logging.getLogger(__name__)
V = TypeVar("V")
KEEP = 64  # periods × scopes kept; the oldest computed goes first


class Snapshots(Generic[V]):
    def __init__(self, ttl: float = 60.0, clock: Callable[[], float] = time.monotonic) -> None:
        self.ttl, self.clock = ttl, clock
        self._values: dict[Hashable, tuple[float, V]] = {}
        self._first: dict[Hashable, asyncio.Lock] = {}
        self._refreshing: dict[Hashable, asyncio.Task[None]] = {}

    async def get(self, key: Hashable, compute: Callable[[], Awaitable[V]]) -> V:
        held = self._values.get(key)
        if held is not None:
            if self.clock() - held[0] >= self.ttl and key not in self._refreshing:
                task = asyncio.create_task(self._refresh(key, compute))
                self._refreshing[key] = task
                task.add_done_callback(lambda _: self._refreshing.pop(key, None))
            return held[1]
        async with self._first.setdefault(key, asyncio.Lock()):  # one computes, others wait
            held = self._values.get(key)
            return held[1] if held is not None else await self._compute(key, compute)

    async def _compute(self, key: Hashable, compute: Callable[[], Awaitable[V]]) -> V:
        started = self.clock()
        value = await compute()
        self._values[key] = (started, value)
        while len(self._values) > KEEP:
            oldest = min(self._values, key=lambda k: self._values[k][0])
            del self._values[oldest]
            self._first.pop(oldest, None)
        return value

    async def _refresh(self, key: Hashable, compute: Callable[[], Awaitable[V]]) -> None:
        try:
            await self._compute(key, compute)
        except Exception as e:  # the database is away: keep showing the last figures
            log.warning("dashboard figures not refreshed: %s", type(e).__name__)
