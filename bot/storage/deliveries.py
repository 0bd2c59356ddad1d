"""The outbox. The only place that moves a Delivery's status (design rule 3).

pending/retry_wait --claim--> in_flight --record--> sent | retry_wait | failed | uncertain
pending/retry_wait --expire--> expired (past the occurrence's valid_until)
in_flight at a crash --recover--> uncertain
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import and_, bindparam, func, or_, select, text, update
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.storage.db import Database
from bot.storage.models import WAITING, Chat, Delivery, Occurrence, table_of, utcnow
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
    member_count: int | None  # the chat's audience now: recorded with the send
    member_count_at: datetime | None  # when it was counted (refreshed when over an hour old)


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
    audience_size: int | None = None
    recounted: bool = False  # audience_size was just counted: the chat's cache takes it too


async def claim(
    db: Database,
    platform: str,
    limit: int,
    *,
    now: datetime | None = None,
    quiet_for: Sequence[str] = (),
    sender: str = "",
) -> list[Claimed]:
    """Mark up to `limit` due deliveries of one platform in_flight and commit, oldest first.

    `quiet_for`: audiences inside their quiet hours; their deliveries wait unless urgent.
    Safe with several senders: PostgreSQL skips rows another sender holds.
    """
    return await record_and_claim(
        db, (), platform, limit, now=now, quiet_for=quiet_for, sender=sender
    )


async def record_and_claim(
    db: Database,
    results: Sequence[Result],
    platform: str,
    limit: int,
    *,
    now: datetime | None = None,
    quiet_for: Sequence[str] = (),
    sender: str = "",
    holding: Collection[int] | None = None,
) -> list[Claimed]:
    """Record finished sends and claim the next ones in one transaction: the sender's one
    round trip to the database per turn.

    `holding`, given after a turn whose outcome the sender could not learn (the connection
    broke around COMMIT), lists the rows it knows it holds: any other row in flight under its
    name was claimed by that lost turn and never sent, so it goes back to waiting.
    """
    now = now or utcnow()
    async with db.engine.begin() as conn:
        if results:
            await _record(conn, results, now)
        if holding is not None:
            await conn.execute(
                update(_delivery)
                .where(
                    _delivery.c.status == S.IN_FLIGHT,
                    _delivery.c.claimed_by == sender,
                    _delivery.c.id.not_in(list(holding)),
                )
                .values(status=S.PENDING, claimed_by=None)
            )
        return await _claim(conn, platform, limit, now, quiet_for, sender) if limit > 0 else []


async def _claim(
    conn: AsyncConnection,
    platform: str,
    limit: int,
    now: datetime,
    quiet_for: Sequence[str],
    sender: str,
) -> list[Claimed]:
    due = (
        select(_delivery.c.id)
        .where(
            _delivery.c.platform == platform,
            text(WAITING),
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

    def chat_column(column: Any) -> Any:
        return select(column).where(_chat.c.id == _delivery.c.chat_id).scalar_subquery()

    rows = await conn.execute(
        update(_delivery)
        .where(_delivery.c.id.in_(due.scalar_subquery()))
        .values(status=S.IN_FLIGHT, claimed_at=now, claimed_by=sender)
        .returning(
            _delivery.c.id,
            _delivery.c.occurrence_id,
            _delivery.c.chat_id,
            chat_column(_chat.c.platform_chat_id),
            chat_column(_chat.c.type),
            _delivery.c.attempts,
            _delivery.c.migrated,
            chat_column(_chat.c.member_count),
            chat_column(_chat.c.member_count_at),
        )
    )
    return sorted((Claimed(*row) for row in rows), key=lambda c: c.id)


def _record_statement(**values: Any) -> Any:
    """An UPDATE of one in-flight row, run once per result (executemany)."""
    mine = and_(_delivery.c.id == bindparam("r_id"), _delivery.c.status == S.IN_FLIGHT)
    return update(_delivery).where(mine).values(**values)


_SENT = _record_statement(
    status=S.SENT,
    sent_at=bindparam("r_now"),
    platform_message_id=bindparam("r_message"),
    audience_size=bindparam("r_size"),
    error=None,
    attempts=_delivery.c.attempts + 1,
)
_RETRY = _record_statement(
    status=S.RETRY_WAIT,
    next_attempt_at=bindparam("r_next"),
    error=bindparam("r_error"),
    attempts=_delivery.c.attempts + bindparam("r_cost"),
)
_FAILED = _record_statement(
    status=S.FAILED, error=bindparam("r_error"), attempts=_delivery.c.attempts + 1
)
_UNCERTAIN = _record_statement(
    status=S.UNCERTAIN, error=bindparam("r_error"), attempts=_delivery.c.attempts + 1
)
_MIGRATED = _record_statement(
    status=S.PENDING, next_attempt_at=bindparam("r_now"), migrated=True, error="chat migrated"
)
_RECOUNT_CHAT = (
    update(_chat)
    .where(_chat.c.id == bindparam("r_chat"))
    .values(member_count=bindparam("r_size"), member_count_at=bindparam("r_now"))
)
_DEACTIVATE_CHAT = update(_chat).where(_chat.c.id == bindparam("r_chat")).values(active=False)
_MOVE_CHAT = (
    update(_chat)
    .where(_chat.c.id == bindparam("r_chat"))
    .values(platform_chat_id=bindparam("r_new_chat"))
)


async def record(db: Database, results: Sequence[Result], *, now: datetime | None = None) -> None:
    """Write the outcome of sends that were in flight, in one transaction.

    A row that is no longer in flight (recovery already called it uncertain) is left alone.
    """
    async with db.engine.begin() as conn:
        await _record(conn, results, now or utcnow())


async def _record(conn: AsyncConnection, results: Sequence[Result], now: datetime) -> None:
    batches: dict[Any, list[dict[str, Any]]] = defaultdict(list)
    for r in results:
        row = {"r_id": r.delivery_id, "r_chat": r.chat_id, "r_now": now, "r_error": r.error}
        match r.outcome:
            case Outcome.SENT:
                sent = {**row, "r_message": r.message_id, "r_size": r.audience_size}
                batches[_SENT].append(sent)
                if r.recounted:
                    batches[_RECOUNT_CHAT].append(sent)
            case Outcome.RETRY:
                cost = 1 if r.penalty else 0
                batches[_RETRY].append({**row, "r_next": r.next_attempt_at or now, "r_cost": cost})
            case Outcome.FAILED:
                batches[_FAILED].append(row)
            case Outcome.CHAT_GONE:
                batches[_FAILED].append(row)
                batches[_DEACTIVATE_CHAT].append(row)
            case Outcome.MIGRATED:
                batches[_MIGRATED].append(row)
                batches[_MOVE_CHAT].append({**row, "r_new_chat": r.new_chat_id})
            case Outcome.UNCERTAIN:
                batches[_UNCERTAIN].append(row)
    for statement, rows in batches.items():
        await conn.execute(statement, rows)


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


async def status_counts(db: Database, occurrence_id: int | None = None) -> dict[str, int]:
    query = select(_delivery.c.status, func.count()).group_by(_delivery.c.status)
    if occurrence_id is not None:
        query = query.where(_delivery.c.occurrence_id == occurrence_id)
    async with db.reading() as conn:
        return {str(status): int(n) for status, n in await conn.execute(query)}
