"""PostgreSQL's pool: a connection that sat idle is checked before use, one in use is not."""

from __future__ import annotations

import pytest
from sqlalchemy import text
from sqlalchemy.dialects.postgresql.asyncpg import AsyncAdapt_asyncpg_connection

from bot.storage import db as storage
from tests.conftest import pg_database

pytestmark = pytest.mark.pg


async def _backend_pid(conn_db: storage.Database) -> int:
    async with conn_db.reading() as conn:
        return int((await conn.execute(text("SELECT pg_backend_pid()"))).scalar_one())


async def test_a_connection_killed_while_idle_is_replaced_before_use(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The server restarted (or dropped the connection) while loa was quiet: the next
    statement works, on a new connection, instead of failing once."""
    monkeypatch.setattr(storage, "PING_AFTER_IDLE_S", 0.0)
    loa, other = await pg_database(), await pg_database()
    try:
        backend = await _backend_pid(loa)
        async with other.reading() as conn:
            await conn.execute(text(f"SELECT pg_terminate_backend({backend})"))

        assert await _backend_pid(loa) != backend
    finally:
        await loa.dispose()
        await other.dispose()


async def test_a_connection_in_constant_use_is_not_pinged(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A ping is three round trips: under load it would be a third of them."""
    loa = await pg_database()
    pings = 0
    original = AsyncAdapt_asyncpg_connection.ping

    def counting(self: AsyncAdapt_asyncpg_connection) -> None:
        nonlocal pings
        pings += 1
        original(self)  # type: ignore[no-untyped-call]

    monkeypatch.setattr(AsyncAdapt_asyncpg_connection, "ping", counting)
    try:
        raw = await _backend_pid(loa)
        for _ in range(20):
            assert await _backend_pid(loa) == raw
    finally:
        await loa.dispose()

    assert pings == 0
