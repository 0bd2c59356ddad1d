"""The outbox. The only place that moves a Delivery's status (design rule 3).

pending/retry_wait --claim--> in_flight --record--> sent | retry_wait | failed | uncertain
pending/retry_wait --claim--> failed (its chat is inactive: it would never go out)
pending/retry_wait --expire--> expired (past the occurrence's valid_until)
in_flight at a crash --recover--> uncertain
in_flight whose result the database refuses --record--> failed (quarantined)
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import AsyncIterator, Collection, Mapping, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import and_, bindparam, case, func, or_, select, text, update
from sqlalchemy.exc import DataError, DBAPIError, IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.storage.db import Database
from bot.storage.models import (
    WAITING,
    Chat,
    Delivery,
    Feedback,
    Occurrence,
    table_of,
    utcnow,
)
from bot.storage.models import DeliveryStatus as S

log = logging.getLogger(__name__)

_DUE = (S.PENDING, S.RETRY_WAIT)
_delivery, _chat, _occurrence = table_of(Delivery), table_of(Chat), table_of(Occurrence)
_feedback = table_of(Feedback)
ERROR_MAX = 500  # Delivery.error's length: a longer reason is cut, never refused
CHAT_INACTIVE = "chat inactive"
HAS_OWN_COPY = "migrated: the new chat has its own delivery"


def refused(e: DBAPIError) -> bool:
    """The database refused what was written (a constraint, a value it cannot store), as
    opposed to the connection failing: writing the same again would fail the same way.
    asyncpg reports some of these (data exceptions, SQLSTATE class 22) as plain DBAPIError."""
    sqlstate = getattr(e.orig, "sqlstate", None)
    return isinstance(e, IntegrityError | DataError) or str(sqlstate)[:2] in ("22", "23")


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


@dataclass(frozen=True, slots=True)
class Turn:
    """What one turn did: the rows now claimed, and the results not even quarantine could
    write (those rows stay in flight: the sender must never release them to be sent again)."""

    claimed: list[Claimed]
    unrecorded: frozenset[int] = frozenset()


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
    turn = await record_and_claim(
        db, (), platform, limit, now=now, quiet_for=quiet_for, sender=sender
    )
    return turn.claimed


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
) -> Turn:
    """Record finished sends and claim the next ones in one transaction: the sender's one
    round trip to the database per turn.

    `holding`, given after a turn whose outcome the sender could not learn (the connection
    broke around COMMIT), lists the rows it knows it holds: any other row in flight under its
    name was claimed by that lost turn and never sent, so it goes back to waiting.

    If the database refuses the batch of results (a constraint, a value it cannot store), the
    turn is done again recording them one by one: a result that is still refused fails its
    row ("could not record: …") so that one bad row never stops the rest of the outbox.
    """
    now = now or utcnow()
    claiming = (platform, limit, now, quiet_for, sender, holding)
    try:
        async with db.engine.begin() as conn:
            await _record(conn, results, now)
            return Turn(await _release_and_claim(conn, *claiming))
    except DBAPIError as e:
        if not results or not refused(e):
            raise
        log.warning("%d results refused (%s): recording one by one", len(results), type(e).__name__)
    async with db.engine.begin() as conn:
        unrecorded = await _record_each(conn, results, now)
        return Turn(await _release_and_claim(conn, *claiming), unrecorded)


async def _record_each(
    conn: AsyncConnection, results: Sequence[Result], now: datetime
) -> frozenset[int]:
    """Each result in its own savepoint; a refused one fails its row instead."""
    unrecorded = set()
    for r in results:
        try:
            async with conn.begin_nested():
                await _record(conn, [r], now)
            continue
        except DBAPIError as e:
            if not refused(e):
                raise
            reason = f"could not record: {type(e).__name__}"
        log.warning("delivery %s quarantined: %s", r.delivery_id, reason)
        try:
            async with conn.begin_nested():
                await _record(
                    conn, [Result(r.delivery_id, r.chat_id, Outcome.FAILED, error=reason)], now
                )
        except DBAPIError as e:
            if not refused(e):
                raise
            log.error(
                "delivery %s: not even its failure can be recorded (%s)",
                r.delivery_id,
                type(e).__name__,
            )
            unrecorded.add(r.delivery_id)
    return frozenset(unrecorded)


async def _release_and_claim(
    conn: AsyncConnection,
    platform: str,
    limit: int,
    now: datetime,
    quiet_for: Sequence[str],
    sender: str,
    holding: Collection[int] | None,
) -> list[Claimed]:
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
    if limit <= 0:
        return []
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

    # A row whose chat is inactive (the bot was removed, the group moved to a row loa knew
    # already) would never go out: it fails here instead of being sent or waiting forever.
    active = chat_column(_chat.c.active).is_(True)
    rows = await conn.execute(
        update(_delivery)
        .where(_delivery.c.id.in_(due.scalar_subquery()))
        .values(
            status=case((active, S.IN_FLIGHT.value), else_=S.FAILED.value),
            error=case((active, _delivery.c.error), else_=CHAT_INACTIVE),
            claimed_at=now,
            claimed_by=sender,
        )
        .returning(
            _delivery.c.status,
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
    claimed = (Claimed(*row[1:]) for row in rows if row[0] == S.IN_FLIGHT)
    return sorted(claimed, key=lambda c: c.id)


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
    await record_and_claim(db, results, "", 0, now=now)


async def _record(conn: AsyncConnection, results: Sequence[Result], now: datetime) -> None:
    batches: dict[Any, list[dict[str, Any]]] = defaultdict(list)
    for r in results:
        error = None if r.error is None else r.error[:ERROR_MAX]
        row = {"r_id": r.delivery_id, "r_chat": r.chat_id, "r_now": now, "r_error": error}
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
                assert r.new_chat_id is not None
                await _migrate(conn, r.delivery_id, r.chat_id, r.new_chat_id, now)
            case Outcome.UNCERTAIN:
                batches[_UNCERTAIN].append(row)
    for statement, rows in batches.items():
        await conn.execute(statement, rows)


async def _migrate(
    conn: AsyncConnection, delivery_id: int, chat_id: int, new_id: str, now: datetime
) -> None:
    """The chat became a supergroup under `new_id`: its row takes the new id and the delivery
    is due again. If loa already has a row for the new id (it saw the new id first), the old
    row is retired and its delivery, and the others waiting for it, move to the known row,
    except where that row has its own delivery of the same occurrence (one copy per group)."""
    platform = select(_chat.c.platform).where(_chat.c.id == chat_id).scalar_subquery()
    known = (
        await conn.execute(
            select(_chat.c.id).where(
                _chat.c.platform == platform,
                _chat.c.platform_chat_id == new_id,
                _chat.c.id != chat_id,
            )
        )
    ).scalar()
    row = {"r_id": delivery_id, "r_chat": chat_id, "r_now": now, "r_new_chat": new_id}
    if known is None:
        await conn.execute(_MIGRATED, [row])
        await conn.execute(_MOVE_CHAT, [row])
        return
    has_own = _has_own_copy(known)
    in_flight = and_(_delivery.c.id == delivery_id, _delivery.c.status == S.IN_FLIGHT)
    moved = await conn.execute(
        update(_delivery)
        .where(in_flight, ~has_own)
        .values(chat_id=known, status=S.PENDING, next_attempt_at=now, migrated=True, error=None)
    )
    if not moved.rowcount:
        await conn.execute(
            update(_delivery)
            .where(in_flight)
            .values(status=S.FAILED, error=HAS_OWN_COPY, attempts=_delivery.c.attempts + 1)
        )
    await _move_waiting(conn, chat_id, known)
    await conn.execute(_DEACTIVATE_CHAT, [row])


def _has_own_copy(chat_id: int) -> Any:
    """Whether `chat_id` already holds a delivery of the same occurrence as the row updated."""
    theirs = _delivery.alias("theirs")
    return (
        select(theirs.c.id)
        .where(theirs.c.chat_id == chat_id, theirs.c.occurrence_id == _delivery.c.occurrence_id)
        .exists()
    )


async def move_waiting(db: Database, from_chat: int, to_chat: int) -> None:
    """A group's old row is retired for `to_chat` (a migration seen by the inbox first): the
    deliveries still waiting for it go there, one copy per group and occurrence."""
    async with db.engine.begin() as conn:
        await _move_waiting(conn, from_chat, to_chat)


async def _move_waiting(conn: AsyncConnection, from_chat: int, to_chat: int) -> None:
    has_own = _has_own_copy(to_chat)
    await conn.execute(
        update(_delivery)
        .where(_delivery.c.chat_id == from_chat, _delivery.c.status.in_(_DUE), ~has_own)
        .values(chat_id=to_chat)
    )


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


async def status_counts(db: Database) -> dict[str, int]:
    """The whole outbox by status (benchmarks and tests); per occurrence: `occurrence_counts`."""
    query = select(_delivery.c.status, func.count()).group_by(_delivery.c.status)
    async with db.reading() as conn:
        return {str(status): int(n) for status, n in await conn.execute(query)}


class Failure(StrEnum):
    """Why a delivery failed, as reports group it."""

    CHAT_GONE = "chat_gone"  # the bot was removed or blocked, the chat is gone or inactive
    REFUSED = "refused"  # the platform refused the message
    GAVE_UP = "gave_up"  # the platform kept failing: retries ran out
    OTHER = "other"  # loa could not record the result, and the like


_IN_PROGRESS = (S.PENDING, S.RETRY_WAIT, S.IN_FLIGHT)


@dataclass(frozen=True, slots=True)
class Counts:
    """What became of one occurrence: its deliveries and the feedback on it."""

    statuses: Mapping[str, int] = field(default_factory=dict)
    failures: Mapping[Failure, int] = field(default_factory=dict)  # failed rows by reason
    reached: int = 0  # people in the chats it was sent to (their member counts at send time)
    feedback: Mapping[str, int] = field(default_factory=dict)  # answers by kind

    @property
    def total(self) -> int:
        return sum(self.statuses.values())

    @property
    def waiting(self) -> int:
        return sum(self.statuses.get(s, 0) for s in _IN_PROGRESS)


def failure_of(error: Any) -> Any:
    return case(
        (or_(error.like("chat_gone%"), error == CHAT_INACTIVE), Failure.CHAT_GONE.value),
        (error.like("bad_request%"), Failure.REFUSED.value),
        (error.like("retryable%"), Failure.GAVE_UP.value),
        else_=Failure.OTHER.value,
    )


async def occurrence_counts(
    source: Database | AsyncConnection, occurrence_ids: Collection[int]
) -> dict[int, Counts]:
    """Counts of each occurrence (every id asked for has an entry): one query for the
    deliveries, one for the feedback."""
    ids = list(occurrence_ids)
    rows = select(
        _delivery.c.occurrence_id.label("occurrence"),
        _delivery.c.status.label("status"),
        case((_delivery.c.status == S.FAILED, failure_of(_delivery.c.error))).label("failure"),
        _delivery.c.audience_size.label("size"),
    ).where(_delivery.c.occurrence_id.in_(ids))
    each = rows.subquery()
    by_delivery = select(
        each.c.occurrence, each.c.status, each.c.failure, func.count(), func.sum(each.c.size)
    ).group_by(each.c.occurrence, each.c.status, each.c.failure)
    by_feedback = (
        select(_feedback.c.occurrence_id, _feedback.c.kind, func.count())
        .where(_feedback.c.occurrence_id.in_(ids))
        .group_by(_feedback.c.occurrence_id, _feedback.c.kind)
    )
    statuses: dict[int, dict[str, int]] = {i: defaultdict(int) for i in ids}
    failures: dict[int, dict[Failure, int]] = {i: defaultdict(int) for i in ids}
    reached = dict.fromkeys(ids, 0)
    feedback: dict[int, dict[str, int]] = {i: {} for i in ids}
    async with _reading(source) as conn:
        for occurrence, status, failure, n, size in await conn.execute(by_delivery):
            statuses[occurrence][status] += n
            if failure is not None:
                failures[occurrence][Failure(failure)] += n
            if status == S.SENT:
                reached[occurrence] += int(size or 0)
        for occurrence, kind, n in await conn.execute(by_feedback):
            feedback[occurrence][kind] = int(n)
    return {i: Counts(dict(statuses[i]), dict(failures[i]), reached[i], feedback[i]) for i in ids}


@asynccontextmanager
async def _reading(source: Database | AsyncConnection) -> AsyncIterator[AsyncConnection]:
    if isinstance(source, AsyncConnection):
        yield source
    else:
        async with source.reading() as conn:
            yield conn
