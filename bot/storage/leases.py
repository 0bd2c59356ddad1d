"""Leases: a row that one process holds for a while and must renew, so that a second
`loa run` on the same database stands by instead of doing the same work twice."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import or_, update

from bot.storage.db import Database, insert_ignoring_duplicates
from bot.storage.models import Lease, table_of, utcnow

_lease = table_of(Lease)


async def hold(
    db: Database, name: str, holder: str, ttl: timedelta, *, now: datetime | None = None
) -> bool:
    """Take or renew the lease `name` for `ttl`; False while another holder's is still valid."""
    now = now or utcnow()
    async with db.engine.begin() as conn:
        await conn.execute(
            insert_ignoring_duplicates(db, _lease).values(name=name, holder=holder, expires_at=now)
        )
        taken = await conn.execute(
            update(_lease)
            .where(
                _lease.c.name == name,
                or_(_lease.c.holder == holder, _lease.c.expires_at <= now),
            )
            .values(holder=holder, expires_at=now + ttl)
        )
    return bool(taken.rowcount)


async def let_go(db: Database, name: str, holder: str) -> None:
    """End our lease now, so a standby process need not wait for it to expire."""
    async with db.engine.begin() as conn:
        await conn.execute(
            update(_lease)
            .where(_lease.c.name == name, _lease.c.holder == holder)
            .values(expires_at=utcnow())
        )
