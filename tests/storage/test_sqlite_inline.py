"""SQLite's statements run on the loop's thread; waiting for its lock and long reads do not."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import exc, text

from bot.storage import sqlite_inline
from bot.storage.db import Database
from bot.storage.models import Secret
from tests.sqlite_lock import write_lock_held


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


async def _write(db: Database, name: str) -> None:
    async with db.session() as session:
        session.add(Secret(name=name, value="x"))
        await session.commit()


async def _names(db: Database) -> set[str]:
    async with db.reading() as conn:
        return set((await conn.execute(text("SELECT name FROM secrets"))).scalars())


async def test_a_writer_waits_for_another_process_lock_without_holding_the_loop(
    db: Database, tmp_path: Path
) -> None:
    async with write_lock_held(str(tmp_path / "loa.db")):
        started = time.monotonic()
        with Ticker() as ticker:
            writing = asyncio.create_task(_write(db, "sau khi chờ"))
            await asyncio.sleep(0.5)
            assert not writing.done()  # it waits for the lock
    await writing
    waited = time.monotonic() - started

    assert waited >= 0.5
    assert ticker.ticks >= 15  # and the loop went on meanwhile
    assert "sau khi chờ" in await _names(db)


async def test_a_lock_held_past_the_busy_timeout_fails_the_writer(
    db: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sqlite_inline, "BUSY_TIMEOUT_S", 0.2)
    async with write_lock_held(str(tmp_path / "loa.db")):
        with pytest.raises(exc.OperationalError, match="database is locked"):
            await _write(db, "không kịp")

    assert "không kịp" not in await _names(db)


async def test_two_writers_of_one_process_take_turns_on_its_one_thread(
    db: Database,
) -> None:
    """The first holds the lock across an await; the second waits for it (a busy wait inside
    SQLite would hold the one thread the first needs to finish: a deadlock)."""
    async with db.session() as first:
        first.add(Secret(name="thứ nhất", value="x"))
        await first.flush()  # the write lock is taken
        second = asyncio.create_task(_write(db, "thứ hai"))
        await asyncio.sleep(0.2)
        assert not second.done()
        await first.commit()
    async with asyncio.timeout(5):
        await second

    assert {"thứ nhất", "thứ hai"} <= await _names(db)


async def test_a_long_read_leaves_the_loop_free(db: Database) -> None:
    """Reports read through `reading()`, on aiosqlite's thread: a long one does not stop the
    webhook from answering."""
    count_far = text(
        "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 3000000) "
        "SELECT count(*) FROM n"
    )
    started = time.monotonic()
    with Ticker() as ticker:
        async with db.reading() as conn:
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
