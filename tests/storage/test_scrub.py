"""What the database keeps besides its rows: the throttles' hash key, and the clean-up after
an erasure (bot.storage.db)."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
from sqlalchemy import text

from bot.storage.db import Database, keyed_hash
from bot.storage.models import Person
from tests.conftest import pg_database


async def test_keyed_hashes_are_stable_and_belong_to_one_installation(tmp_path: Path) -> None:
    hashes = []
    for name in ("a", "b"):
        db = Database(f"sqlite+aiosqlite:///{tmp_path / name}.db")
        async with db.engine.begin() as conn:
            await conn.run_sync(Person.metadata.create_all)
        async with db.session() as session:
            first = await keyed_hash(session, "telegram:100000001:invite")
            await session.commit()
        async with db.session() as session:
            assert await keyed_hash(session, "telegram:100000001:invite") == first
        hashes.append(first)
        await db.dispose()
    assert hashes[0] != hashes[1], "another installation, another key"
    assert hashlib.sha256(b"telegram:100000001:invite").hexdigest() not in hashes


async def test_scrub_empties_the_sqlite_log(db: Database) -> None:
    wal = Path(db.url.removeprefix("sqlite+aiosqlite:///") + "-wal")
    async with db.session() as session:
        session.add(Person(platform="telegram", platform_user_id="7", display_name="Lan"))
        await session.commit()
    assert size(wal) > 0
    await db.scrub(["people"])
    assert size(wal) == 0


def size(path: Path) -> int:
    return path.stat().st_size


@pytest.mark.pg
async def test_scrub_vacuums_on_postgresql() -> None:
    db = await pg_database()
    await db.scrub(["people", "inbox"])
    async with db.engine.connect() as conn:
        query = "SELECT relname FROM pg_stat_user_tables WHERE last_vacuum IS NOT NULL"
        vacuumed = (await conn.execute(text(query))).scalars().all()
    await db.dispose()
    assert sorted(vacuumed) == ["inbox", "people"]
