"""SQLite's statements run on the loop's thread; waiting for its lock and long reads do not."""

from __future__ import annotations

import asyncio
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import exc, text

from bot.storage import sqlite_inline
from bot.storage.db import Database
from bot.storage.models import Secret


@pytest.fixture
async def sqlite_db(tmp_path: Path) -> AsyncIterator[Database]:
    from bot.storage.migrate import upgrade

    url = f"sqlite+aiosqlite:///{tmp_path / 'loa.db'}"
    await upgrade(url)
    db = Database(url)
    yield db
    await db.dispose()


class Ticker:
    """Counts how often the loop got to run it: a loop held by a statement does not tick."""

    def __init__(self) -> None:
        self.ticks = 0
        self._task: asyncio.Task[None] | None = None

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(0.01)
            self.ticks += 1

    def __enter__(self) -> Ticker:
        self._task = asyncio.create_task(self._run())
        return self

    def __exit__(self, *_: object) -> None:
        assert self._task is not None
        self._task.cancel()


def _hold_the_lock(path: str, seconds: float, taken: threading.Event) -> None:
    """Another process's writer: takes SQLite's write lock and keeps it for `seconds`."""
    connection = sqlite3.connect(path, isolation_level=None)
    connection.execute("BEGIN IMMEDIATE")
    taken.set()
    time.sleep(seconds)
    connection.execute("COMMIT")
    connection.close()


async def _write(db: Database, name: str) -> None:
    async with db.session() as session:
        session.add(Secret(name=name, value="x"))
        await session.commit()


async def _names(db: Database) -> set[str]:
    async with db.reading() as conn:
        return set((await conn.execute(text("SELECT name FROM secrets"))).scalars())


async def test_a_writer_waits_for_another_process_lock_without_holding_the_loop(
    sqlite_db: Database, tmp_path: Path
) -> None:
    taken = threading.Event()
    holder = threading.Thread(target=_hold_the_lock, args=(str(tmp_path / "loa.db"), 0.5, taken))
    holder.start()
    await asyncio.to_thread(taken.wait)
    started = time.monotonic()
    with Ticker() as ticker:
        await _write(sqlite_db, "sau khi chờ")
    waited = time.monotonic() - started
    holder.join()

    assert waited >= 0.3  # it did wait for the lock
    assert ticker.ticks >= 15  # and the loop went on meanwhile
    assert "sau khi chờ" in await _names(sqlite_db)


async def test_a_lock_held_past_the_busy_timeout_fails_the_writer(
    sqlite_db: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sqlite_inline, "BUSY_TIMEOUT_S", 0.2)
    taken = threading.Event()
    holder = threading.Thread(target=_hold_the_lock, args=(str(tmp_path / "loa.db"), 1.0, taken))
    holder.start()
    await asyncio.to_thread(taken.wait)
    try:
        with pytest.raises(exc.OperationalError, match="database is locked"):
            await _write(sqlite_db, "không kịp")
    finally:
        await asyncio.to_thread(holder.join)

    assert "không kịp" not in await _names(sqlite_db)


async def test_two_writers_of_one_process_take_turns_on_its_one_thread(
    sqlite_db: Database,
) -> None:
    """The first holds the lock across an await; the second waits for it (a busy wait inside
    SQLite would hold the one thread the first needs to finish: a deadlock)."""
    async with sqlite_db.session() as first:
        first.add(Secret(name="thứ nhất", value="x"))
        await first.flush()  # the write lock is taken
        second = asyncio.create_task(_write(sqlite_db, "thứ hai"))
        await asyncio.sleep(0.2)
        assert not second.done()
        await first.commit()
    async with asyncio.timeout(5):
        await second

    assert {"thứ nhất", "thứ hai"} <= await _names(sqlite_db)


async def test_a_long_read_leaves_the_loop_free(sqlite_db: Database) -> None:
    """Reports read through `reading()`, on aiosqlite's thread: a long one does not stop the
    webhook from answering."""
    count_far = text(
        "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 3000000) "
        "SELECT count(*) FROM n"
    )
    started = time.monotonic()
    with Ticker() as ticker:
        async with sqlite_db.reading() as conn:
            assert (await conn.execute(count_far)).scalar_one() == 3_000_000
    took = time.monotonic() - started

    assert ticker.ticks >= 0.5 * took / 0.01


def test_a_process_that_forgets_to_close_its_database_still_exits(tmp_path: Path) -> None:
    """A connection left open (a crash path, a script) must not keep the process alive."""
    script = (
        "import asyncio\n"
        "from sqlalchemy import text\n"
        "from bot.storage.db import Database\n"
        "async def main():\n"
        f"    db = Database('sqlite+aiosqlite:///{tmp_path / 'other.db'}')\n"
        "    async with db.engine.connect() as conn:\n"
        "        await conn.execute(text('SELECT 1'))\n"
        "asyncio.run(main())\n"
    )
    done = subprocess.run([sys.executable, "-c", script], timeout=30, capture_output=True)

    assert done.returncode == 0, done.stderr.decode()[-2000:]
