"""Shared fixtures: a database (SQLite always; PostgreSQL where reachable, required in CI)."""

from __future__ import annotations

import gc
import os
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlmodel import SQLModel

import bot.storage.models  # noqa: F401  (registers the tables)
from bot.storage.db import Database

PG_URL = os.environ.get(
    "LOA_TEST_DATABASE_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
)
IN_CI = os.environ.get("CI", "").lower() == "true"


def pytest_collection_finish(session: pytest.Session) -> None:
    """Freeze what imports built (hypothesis, PTB, SQLAlchemy…), as `loa run` does once
    started: a full collection over it pauses the in-process sandbox long enough to bunch
    its arrivals, and the rate tests would see a burst loa never sent."""
    gc.collect()
    gc.freeze()


async def _reset_schema(db: Database) -> None:
    async with db.engine.begin() as conn:
        if not db.is_sqlite:
            await conn.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
            await conn.execute(text("CREATE SCHEMA public"))
        await conn.run_sync(SQLModel.metadata.create_all)


async def pg_database() -> Database:
    """A clean PostgreSQL database, or a skip (a failure when CI=true) if none is reachable."""
    db = Database(PG_URL)
    try:
        await _reset_schema(db)
    except OSError as e:  # refused, unreachable, timed out: no server to test against
        await db.dispose()
        reason = f"PostgreSQL at {PG_URL} unreachable: {type(e).__name__}: {e}"
        if IN_CI:
            pytest.fail(reason)
        pytest.skip(reason)
    except BaseException:  # a server that answers with an error is a failure, never a skip
        await db.dispose()
        raise
    return db


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.pg)])
async def any_db(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Database]:
    """The tests that take this run on SQLite and on PostgreSQL."""
    if request.param == "sqlite":
        db = Database(f"sqlite+aiosqlite:///{tmp_path / 'loa.db'}")
        await _reset_schema(db)
    else:
        db = await pg_database()
    yield db
    await db.dispose()


@pytest.fixture
async def db(tmp_path: Path) -> AsyncIterator[Database]:
    """A fresh SQLite database in a temporary folder."""
    database = Database(f"sqlite+aiosqlite:///{tmp_path / 'loa.db'}")
    await _reset_schema(database)
    yield database
    await database.dispose()
