"""Turns for SQLite's one writer, taken in this process, urgent writers first.

SQLite lets one transaction write at a time; a writer that finds the lock taken waits in
SQLite's busy handler, which sleeps between tries (up to 100 ms each), so under load a writer
can miss the lock again and again. Waiting here instead costs nothing, wakes at once, and
lets a writer a caller is waiting on (an update to acknowledge) go before the others.

A task that holds a turn may take it again (a session opened inside another one): it does
not wait for itself.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import deque
from collections.abc import AsyncIterator


class WriteTurns:
    def __init__(self, writers: int = 1) -> None:
        self._free = writers
        self._urgent: deque[asyncio.Future[None]] = deque()
        self._others: deque[asyncio.Future[None]] = deque()
        self._holders: dict[asyncio.Task[object] | None, int] = {}  # task: turns it holds

    @contextlib.asynccontextmanager
    async def turn(self, *, urgent: bool = False) -> AsyncIterator[None]:
        task = asyncio.current_task()
        if task in self._holders:
            self._holders[task] += 1
            try:
                yield
            finally:
                self._holders[task] -= 1
            return
        if self._free > 0 and not self._urgent and not self._others:
            self._free -= 1
        else:
            waiter = asyncio.get_running_loop().create_future()
            (self._urgent if urgent else self._others).append(waiter)
            try:
                await waiter
            except asyncio.CancelledError:
                if waiter.done() and not waiter.cancelled():
                    self._pass_on()  # the turn was given to us: hand it to the next
                else:
                    (self._urgent if urgent else self._others).remove(waiter)
                raise
        self._holders[task] = 1
        try:
            yield
        finally:
            del self._holders[task]
            self._pass_on()

    def _pass_on(self) -> None:
        for queue in (self._urgent, self._others):
            while queue:
                waiter = queue.popleft()
                if not waiter.done():
                    waiter.set_result(None)
                    return
        self._free += 1
