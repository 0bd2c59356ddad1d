"""The Alembic migrations build exactly the schema the models describe."""

from __future__ import annotations

from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import text
from sqlmodel import SQLModel

from bot.storage.db import Database
from bot.storage.migrate import upgrade
from tests.conftest import pg_database


async def assert_matches_models(db: Database) -> None:
    async with db.engine.connect() as conn:
        diff = await conn.run_sync(
            lambda sync: compare_metadata(MigrationContext.configure(sync), SQLModel.metadata)
        )
    assert diff == []


async def test_sqlite_upgrade_to_head(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'm.db'}"
    await upgrade(url)
    await upgrade(url)  # idempotent
    db = Database(url)
    await assert_matches_models(db)
    await db.dispose()


@pytest.mark.pg
async def test_postgresql_upgrade_to_head() -> None:
    db = await pg_database()  # a clean schema with the tables: drop them for alembic
    async with db.engine.begin() as conn:
        await conn.execute(text("DROP SCHEMA public CASCADE"))
        await conn.execute(text("CREATE SCHEMA public"))
    await upgrade(db.url)
    await assert_matches_models(db)
    await db.dispose()
