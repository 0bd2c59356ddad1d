"""The outbox. The only place that moves a Delivery's status (design rule 3).

pending/retry_wait --claim--> in_flight --record--> sent | retry_wait | failed | uncertain
pending/retry_wait --expire--> expired (past the occurrence's valid_until)
in_flight at a crash --recover--> uncertain
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from sqlalchemy import and_, func, or_, select, update

from bot.storage.db import Database
from bot.storage.models import Chat, Delivery, Occurrence, table_of, utcnow
from bot.storage.models import DeliveryStatus as S

_DUE = (S.PENDING, S.RETRY_WAIT)
_delivery, _chat, _occurrence = table_of(Delivery), table_of(Chat), table_of(Occurrence)


@dataclass(frozen=True, slots=True)
class Claimed:
    """A delivery the sender now owns, with what it needs to send it."""

    id: int
    occurrence_id: int
    chat_id: int
    platform_chat_id: str
    chat_type: str
    attempts: int
    migrated: bool


class Outcome(StrEnum):
    SENT = "sent"
    RETRY = "retry"  # retry_wait at `next_attempt_at`; `penalty` says if it costs an attempt
    FAILED = "failed"
    CHAT_GONE = "chat_gone"  # failed, and the chat is deactivated
    MIGRATED = "migrated"  # the chat moved to `new_chat_id`: send once more there
    UNCERTAIN = "uncertain"


@dataclass(frozen=True, slots=True)
class Result:
    delivery_id: int
    chat_id: int
    outcome: Outcome
    message_id: str | None = None
    next_attempt_at: datetime | None = None
    penalty: bool = True
    error: str | None = None
    new_chat_id: str | None = None


async def claim(
    db: Database,
    platform: str,
    limit: int,
    *,
    now: datetime | None = None,
    quiet_for: Sequence[str] = (),
) -> list[Claimed]:
    """Mark up to `limit` due deliveries of one platform in_flight and commit, oldest first.

    `quiet_for`: audiences inside their quiet hours; their deliveries wait unless urgent.
    Safe with several senders: PostgreSQL skips rows another sender holds.
    """
    now = now or utcnow()
    due = (
        select(_delivery.c.id)
        .where(
            _delivery.c.platform == platform,
            _delivery.c.status.in_(_DUE),
            _delivery.c.next_attempt_at <= now,
        )
        .order_by(_delivery.c.next_attempt_at, _delivery.c.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    if quiet_for:
        quiet_chats = select(_chat.c.id).where(_chat.c.audience.in_(quiet_for))
        urgent = select(_occurrence.c.id).where(_occurrence.c.urgent.is_(True))
        due = due.where(
            or_(_delivery.c.chat_id.not_in(quiet_chats), _delivery.c.occurrence_id.in_(urgent))
        )
    async with db.engine.begin() as conn:
        ids = (await conn.execute(due)).scalars().all()
        if not ids:
            return []
        taken = (
            (
                await conn.execute(
                    update(_delivery)
                    .where(_delivery.c.id.in_(ids), _delivery.c.status.in_(_DUE))
                    .values(status=S.IN_FLIGHT, claimed_at=now)
                    .returning(_delivery.c.id)
                )
            )
            .scalars()
            .all()
        )
        rows = await conn.execute(
            select(
                _delivery.c.id,
                _delivery.c.occurrence_id,
                _delivery.c.chat_id,
                _chat.c.platform_chat_id,
                _chat.c.type,
                _delivery.c.attempts,
                _delivery.c.migrated,
            )
            .join(_chat, _chat.c.id == _delivery.c.chat_id)
            .where(_delivery.c.id.in_(taken))
            .order_by(_delivery.c.id)
        )
        return [Claimed(*row) for row in rows]


async def record(db: Database, results: Sequence[Result], *, now: datetime | None = None) -> None:
    """Write the outcome of sends that were in flight, in one transaction."""
    now = now or utcnow()
    async with db.engine.begin() as conn:
        for r in results:
            values: dict[str, object]
            mine = and_(_delivery.c.id == r.delivery_id, _delivery.c.status == S.IN_FLIGHT)
            match r.outcome:
                case Outcome.SENT:
                    size = select(_chat.c.member_count).where(_chat.c.id == r.chat_id)
                    values = dict(
                        status=S.SENT,
                        sent_at=now,
                        platform_message_id=r.message_id,
                        audience_size=size.scalar_subquery(),
                        error=None,
                        attempts=_delivery.c.attempts + 1,
                    )
                case Outcome.RETRY:
                    values = dict(
                        status=S.RETRY_WAIT,
                        next_attempt_at=r.next_attempt_at or now,
                        error=r.error,
                        attempts=_delivery.c.attempts + (1 if r.penalty else 0),
                    )
                case Outcome.FAILED | Outcome.CHAT_GONE:
                    values = dict(status=S.FAILED, error=r.error, attempts=_delivery.c.attempts + 1)
                    if r.outcome is Outcome.CHAT_GONE:
                        await conn.execute(
                            update(_chat).where(_chat.c.id == r.chat_id).values(active=False)
                        )
                case Outcome.MIGRATED:
                    values = dict(
                        status=S.PENDING, next_attempt_at=now, migrated=True, error="chat migrated"
                    )
                    await conn.execute(
                        update(_chat)
                        .where(_chat.c.id == r.chat_id)
                        .values(platform_chat_id=r.new_chat_id)
                    )
                case Outcome.UNCERTAIN:
                    values = dict(
                        status=S.UNCERTAIN, error=r.error, attempts=_delivery.c.attempts + 1
                    )
            await conn.execute(update(_delivery).where(mine).values(**values))


async def recover_in_flight(db: Database, *, claimed_before: datetime | None = None) -> int:
    """In-flight rows left by a crashed sender become uncertain: they may have gone out."""
    condition = _delivery.c.status == S.IN_FLIGHT
    if claimed_before is not None:
        condition = and_(condition, _delivery.c.claimed_at < claimed_before)
    async with db.engine.begin() as conn:
        result = await conn.execute(
            update(_delivery)
            .where(condition)
            .values(status=S.UNCERTAIN, error="in flight when the sender stopped")
        )
    return int(result.rowcount or 0)


async def expire(db: Database, *, now: datetime | None = None) -> int:
    """Deliveries still waiting past their occurrence's valid_until will not be sent."""
    now = now or utcnow()
    stale = select(_occurrence.c.id).where(_occurrence.c.valid_until < now)
    async with db.engine.begin() as conn:
        result = await conn.execute(
            update(_delivery)
            .where(_delivery.c.status.in_(_DUE), _delivery.c.occurrence_id.in_(stale))
            .values(status=S.EXPIRED, error="past valid_until")
        )
    return int(result.rowcount or 0)


async def next_due_at(db: Database, platform: str) -> datetime | None:
    """When the earliest waiting delivery of a platform becomes due (None: nothing waits)."""
    async with db.engine.connect() as conn:
        value = await conn.scalar(
            select(func.min(_delivery.c.next_attempt_at)).where(
                _delivery.c.platform == platform, _delivery.c.status.in_(_DUE)
            )
        )
    return value if isinstance(value, datetime) else None


async def status_counts(db: Database, occurrence_id: int | None = None) -> dict[str, int]:
    query = select(_delivery.c.status, func.count()).group_by(_delivery.c.status)
    if occurrence_id is not None:
        query = query.where(_delivery.c.occurrence_id == occurrence_id)
    async with db.engine.connect() as conn:
        return {str(status): int(n) for status, n in await conn.execute(query)}
