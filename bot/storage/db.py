"""The database: one async engine and its session factory, SQLite or PostgreSQL."""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import logging
import secrets
import sqlite3
import time
from collections.abc import AsyncIterator, Callable, Iterator, Sequence
from contextvars import ContextVar
from typing import Any

from sqlalchemy import event, exc
from sqlalchemy.ext.asyncio import (
    AsyncConnection,
    AsyncEngine,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.util.concurrency import await_
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.storage.models import Secret, table_of
from bot.storage.sqlite_inline import inline_connector
from bot.turns import WriteTurns

# aiosqlite logs every statement with its parameters (names, what people wrote) at DEBUG: never
# let it below INFO, whatever the root level.
logging.getLogger("aiosqlite").setLevel(logging.INFO)
log = logging.getLogger(__name__)

PING_AFTER_IDLE_S = 5.0  # a pooled PostgreSQL connection unused this long is checked first

# The write turns the current task takes around each session (see Database.taking_turns).
_turns: ContextVar[WriteTurns | None] = ContextVar("write_turns", default=None)


class Database:
    def __init__(self, url: str, *, echo: bool = False) -> None:
        self.url = url
        self.is_sqlite = url.startswith("sqlite")
        kwargs: dict[str, Any] = {"echo": echo}
        if not self.is_sqlite:
            kwargs.update(pool_size=10, max_overflow=10)
            # A network that silently drops packets must fail a statement, not hang the sender
            # until the kernel gives up on the connection (minutes).
            kwargs["connect_args"] = {"timeout": 10, "command_timeout": 60}
            self.engine: AsyncEngine = create_async_engine(url, **kwargs)
            for moment in ("connect", "checkin"):
                event.listen(self.engine.sync_engine.pool, moment, _last_used)
            event.listen(self.engine.sync_engine.pool, "checkout", _ping_if_idle)
            self._reader = self.engine
        else:
            # Statements run on the loop's thread (bot/storage/sqlite_inline.py), except the
            # reads of `reading()`, which may be long (a report) and keep aiosqlite's thread.
            self.engine = create_async_engine(url, async_creator=inline_connector(url), **kwargs)
            self._reader = create_async_engine(url, **kwargs)
            for engine, busy_timeout_ms in ((self.engine, 0), (self._reader, 10_000)):
                event.listen(engine.sync_engine, "connect", _sqlite_pragmas(busy_timeout_ms))
                event.listen(engine.sync_engine, "begin", _sqlite_begin_immediate)
        self._sessions = async_sessionmaker(
            self.engine, class_=AsyncSession, expire_on_commit=False
        )
        self._read_sessions = async_sessionmaker(
            self.engine.execution_options(read_only=True),
            class_=AsyncSession,
            expire_on_commit=False,
        )

    @contextlib.asynccontextmanager
    async def session(self) -> AsyncIterator[AsyncSession]:
        """A session to read and write in (on SQLite its first statement takes the write lock),
        holding a write turn if the task takes turns."""
        turns = _turns.get()
        if turns is None:
            async with self._sessions() as session:
                yield session
            return
        async with turns.turn(), self._sessions() as session:
            yield session

    def read_session(self) -> AsyncSession:
        """A session for lookups only: on SQLite it takes neither the write lock nor a turn,
        so it never waits for a writer. Writing in it is a bug."""
        return self._read_sessions()

    @staticmethod
    @contextlib.contextmanager
    def taking_turns(turns: WriteTurns | None) -> Iterator[None]:
        """Within this block, this task (and the tasks it starts) hold a turn of `turns` for
        each session they open. The inbox's handlers do on SQLite: a turn only while a
        transaction may write, not for the whole update, so other updates' work goes on while
        one waits for SQLite's thread."""
        token = _turns.set(turns)
        try:
            yield
        finally:
            _turns.reset(token)

    def reading(self) -> AsyncConnection:
        """A connection for reads only. On SQLite it does not take the write lock, so reports
        and status polls never hold up the sender."""
        return self._reader.execution_options(read_only=True).connect()

    async def scrub(self, tables: Sequence[str]) -> None:
        """After an erasure, leave no copy of deleted rows where the database keeps old data.

        SQLite deletes with secure_delete (zeroed in the page) and the WAL holds older images
        of the pages until a checkpoint: TRUNCATE copies it into the file and empties it.
        PostgreSQL keeps dead row versions until VACUUM; its WAL and backups are the
        operator's (docs/operations.md). Both commands run outside a transaction."""
        try:
            # on the reader's engine: a checkpoint waits for readers in SQLite's busy handler
            async with self._reader.connect() as conn:
                driver = (await conn.get_raw_connection()).driver_connection
                assert driver is not None
                if self.is_sqlite:
                    async with driver.execute("PRAGMA wal_checkpoint(TRUNCATE)") as cursor:
                        busy = (await cursor.fetchone())[0]
                    if busy:
                        log.warning("WAL checkpoint after an erasure was blocked by readers")
                else:
                    await driver.execute(f"VACUUM {', '.join(tables)}")
        except Exception as e:  # the erasure is committed: a retry of its handler must not follow
            log.warning("clean-up after an erasure failed: %s", type(e).__name__)

    async def dispose(self) -> None:
        await self.engine.dispose()
        if self._reader is not self.engine:
            await self._reader.dispose()


def _last_used(_dbapi_connection: Any, record: Any) -> None:
    if record is not None:  # None: a connection closed on its way back to the pool
        record.info["used_at"] = time.monotonic()


def _ping_if_idle(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
    """Check a PostgreSQL connection that sat unused in the pool (the server may have
    restarted meanwhile) before it is handed out; a dead one is replaced. One in constant use
    is not pinged: a ping is three round trips (pool_pre_ping's, on every checkout, were about
    two in five of all round trips under load), and a statement failing on a connection that died
    under load is retried like any other outage (the pool then renews every connection)."""
    if time.monotonic() - record.info.get("used_at", 0.0) < PING_AFTER_IDLE_S:
        return
    try:
        dbapi_connection.ping()
    except Exception as e:
        raise exc.DisconnectionError("the connection was dead after sitting idle") from e


def _sqlite_pragmas(busy_timeout_ms: int) -> Callable[[Any, Any], None]:
    def on_connect(dbapi_connection: Any, _record: Any) -> None:
        # WAL lets the web server read while the sender writes; NORMAL sync is durable in WAL
        # mode across a process crash (only an OS crash can lose the last commits).
        cur = dbapi_connection.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA synchronous=NORMAL")
        cur.execute(f"PRAGMA busy_timeout={busy_timeout_ms:d}")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute("PRAGMA secure_delete=ON")  # deleted rows are zeroed, not left in free space
        cur.close()
        dbapi_connection.isolation_level = None  # we emit BEGIN ourselves, below

    return on_connect


def _sqlite_begin_immediate(conn: Any) -> None:
    # A deferred transaction that reads and then writes fails at once with "database is locked"
    # when another connection wrote meanwhile; taking the write lock up front makes it wait
    # (busy_timeout) instead. Readers (Database.reading) need no lock in WAL mode.
    # Sent straight to aiosqlite: one trip to its thread, without SQLAlchemy's statement
    # machinery (every transaction begins so; it showed in profiles).
    statement = (
        "BEGIN" if conn.get_execution_options().get("read_only", False) else "BEGIN IMMEDIATE"
    )
    try:
        await_(conn.connection.driver_connection.execute(statement))
    except sqlite3.Error as e:  # raised as SQLAlchemy would ("database is locked" and such)
        raise exc.DBAPIError.instance(statement, None, e, sqlite3.Error) from e


def insert_ignoring_duplicates(db: Database, table: Any) -> Any:
    """INSERT … ON CONFLICT DO NOTHING in the engine's dialect."""
    return insert_for_dialect(db.is_sqlite, table).on_conflict_do_nothing()


def insert_for(session: AsyncSession, table: Any) -> Any:
    """INSERT in the dialect of the session's database, for its ON CONFLICT clauses."""
    return insert_for_dialect(session.get_bind().dialect.name == "sqlite", table)


def insert_for_dialect(is_sqlite: bool, table: Any) -> Any:
    """INSERT in SQLite's or PostgreSQL's dialect, for its ON CONFLICT clauses."""
    if is_sqlite:
        from sqlalchemy.dialects.sqlite import insert as sqlite_insert

        return sqlite_insert(table)
    from sqlalchemy.dialects.postgresql import insert as pg_insert

    return pg_insert(table)


async def keyed_hash(session: AsyncSession, text: str) -> str:
    """HMAC-SHA256 of `text` under this installation's random key (made on first use). Unlike
    a plain hash of a numeric id, it cannot be reversed by hashing every possible id without
    the key. Not committed."""
    query = select(Secret.value).where(Secret.name == _HASH_KEY)
    key = (await session.exec(query)).first()
    if key is None:
        row = {"name": _HASH_KEY, "value": secrets.token_hex(32)}
        await session.exec(
            insert_for(session, table_of(Secret)).values(row).on_conflict_do_nothing()
        )
        key = (await session.exec(query)).one()
    return hmac.new(bytes.fromhex(key), text.encode(), hashlib.sha256).hexdigest()


_HASH_KEY = "hash_key"
