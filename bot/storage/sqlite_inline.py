"""SQLite statements run on the event loop's own thread.

aiosqlite runs each call on a thread of its own and wakes the loop with the result: four or
so trips a statement, each a handful of Python calls, a wake-up of the loop and a hand-over of
the GIL, which under load waits for the interpreter's switch interval (5 ms). Loa's statements
take tens of microseconds in SQLite itself, so the trips cost many times the work.

This connection is aiosqlite's, with its calls made in place. One thing changes: a call must
never wait inside SQLite for a lock another connection holds (the holder may be this very
thread, waiting to be run), so its busy timeout is zero and a busy call is retried here, with
the loop free in between, until the timeout a waiting call would have had. Only calls that did
nothing when SQLite said busy are retried: taking the write lock (BEGIN IMMEDIATE, which every
write transaction starts with), a statement or a commit (SQLite guarantees both can be retried).

Long statements (a report over a year of events) would hold the loop: they read through
`Database.reading()`, which keeps aiosqlite's thread.
"""

from __future__ import annotations

import asyncio
import sqlite3
import time
from collections.abc import Awaitable, Callable
from typing import Any

import aiosqlite
from sqlalchemy.engine import make_url

BUSY_TIMEOUT_S = 10.0
_FIRST_WAIT_S = 0.0005
_LONGEST_WAIT_S = 0.05


class InlineConnection(aiosqlite.Connection):
    async def _execute(self, fn: Any, *args: Any, **kwargs: Any) -> Any:
        if not self._running or not self._connection:
            raise ValueError("Connection closed")
        deadline, wait = time.monotonic() + BUSY_TIMEOUT_S, _FIRST_WAIT_S
        while True:
            try:
                return fn(*args, **kwargs)
            except sqlite3.OperationalError as e:
                if not _busy(e) or time.monotonic() + wait > deadline:
                    raise
            await asyncio.sleep(wait)
            wait = min(wait * 2, _LONGEST_WAIT_S)


def _busy(error: sqlite3.OperationalError) -> bool:
    """Whether another connection holds the lock: not a stale snapshot (SQLITE_BUSY_SNAPSHOT),
    which no wait mends."""
    code = getattr(error, "sqlite_errorcode", None)
    if code is None:
        return "database is locked" in str(error)
    return code in (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_BUSY_RECOVERY)


def inline_connector(url: str) -> Callable[[], Awaitable[aiosqlite.Connection]]:
    """The `async_creator` of an engine whose connections run inline: it connects as the
    aiosqlite dialect would for `url` (path, URL options)."""
    parsed = make_url(url)
    (database,), options = parsed.get_dialect()().create_connect_args(parsed)

    async def connect() -> aiosqlite.Connection:
        connection = InlineConnection(lambda: sqlite3.connect(database, **options), 64)
        connection._thread.daemon = True  # as the dialect's own: an unclosed one never holds exit
        return await connection

    return connect
