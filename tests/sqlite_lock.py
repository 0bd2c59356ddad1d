"""Another process's writer on a SQLite file: it takes the write lock and keeps it."""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
import threading
from collections.abc import AsyncIterator


@contextlib.asynccontextmanager
async def write_lock_held(path: str) -> AsyncIterator[None]:
    """SQLite's write lock on `path`, held by a connection of its own (in a thread, as another
    process would hold it) from entry until the block ends."""
    taken, release = threading.Event(), threading.Event()

    def hold() -> None:
        writer = sqlite3.connect(path, isolation_level=None)
        writer.execute("BEGIN IMMEDIATE")
        taken.set()
        release.wait(30)
        writer.execute("ROLLBACK")
        writer.close()

    holder = threading.Thread(target=hold)
    holder.start()
    await asyncio.to_thread(taken.wait)
    try:
        yield
    finally:
        release.set()
        await asyncio.to_thread(holder.join)
