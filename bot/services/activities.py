"""Activity reports (/baocao) and exemplary models (/mohinh): what schools did for a plan and
the models they put forward, as the plans' targets count them (bot/services/kpis.py).

A report's unit is the top of the reporter's scope (a teacher's school, an official's ward),
never what they typed or tapped."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Collection
from datetime import date, datetime, timedelta
from typing import Any, Final

import sqlalchemy as sa
from sqlalchemy import func, update
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.reports.period import Period
from bot.services.permissions import Action, deciders
from bot.services.units import tops
from bot.storage.models import (
    ActivityReport,
    ExemplaryModel,
    Person,
    Unit,
    table_of,
    utcnow,
)

# Stable codes, in the order the buttons show them (content/templates/activity_button.j2).
KINDS: Final = (
    "thematic_session",  # sinh hoạt chuyên đề
    "parent_meeting",
    "flag_ceremony",
    "extracurricular",
    "english_club",
    "conference",
    "plan",  # xây dựng kế hoạch
)
THEMATIC, PLAN = "thematic_session", "plan"
PARTICIPANTS: Final = ("teachers", "students", "parents")  # asked one after the other
MAX_PARTICIPANTS = 100_000
MAX_NOTES = 2000
MAX_TITLE = 255
MAX_DESCRIPTION = 4000
EDITABLE = timedelta(hours=24)
DRAFT, SENT = "draft", "sent"
PENDING, APPROVED, REJECTED = "pending", "approved", "rejected"

_DAY = re.compile(r"^\s*(\d{1,2})\s*/\s*(\d{1,2})(?:\s*/\s*(\d{4}))?\s*$")


def parse_day(text: str, today: date) -> date | None:
    """ "25/11" (this year) or "25/11/2026"; None if it is not a day of the calendar."""
    match = _DAY.match(text)
    if match is None:
        return None
    day, month, year = match.groups()
    try:
        return date(int(year or today.year), int(month), int(day))
    except ValueError:
        return None


def parse_count(text: str) -> int | None:
    """A whole number of people, 0..MAX_PARTICIPANTS ("1.200" as Vietnamese write it too)."""
    digits = text.strip().replace(".", "").replace(" ", "")
    if not digits.isdigit():
        return None
    number = int(digits)
    return number if number <= MAX_PARTICIPANTS else None


async def home_unit(session: AsyncSession, units: Collection[int]) -> int | None:
    """The unit a person reports for: the top of their scope (their school, their ward)."""
    found = await tops(session, set(units))
    return found[0].id if found else None


def editable(report: ActivityReport, now: datetime) -> bool:
    """A draft, or a report sent less than `EDITABLE` ago."""
    return report.status == DRAFT or (
        report.sent_at is not None and now - report.sent_at < EDITABLE
    )


async def schools_in(session: AsyncSession, units: Collection[int]) -> list[Unit]:
    """The schools an official may propose a model for, by name."""
    query = select(Unit).where(col(Unit.id).in_(list(units)), Unit.kind == "school")
    return sorted((await session.exec(query)).all(), key=lambda u: u.name)


async def approvers(session: AsyncSession, model: ExemplaryModel, platform: str) -> list[Person]:
    """Officials on `platform` other than its author whose scope covers the model's school."""
    if model.unit_id is None:  # its school is gone: nobody can decide for it
        return []
    return await deciders(session, Action.APPROVE_MODEL, [model.unit_id], model.person_id, platform)


async def decide(
    session: AsyncSession,
    model_id: int,
    person_id: int,
    *,
    approve: bool,
    reason: str | None = None,
) -> bool:
    """Approve or reject (with `reason`) a pending model, once: False if it was decided
    already. One conditional UPDATE; commits."""
    done = await session.exec(
        update(ExemplaryModel)
        .where(col(ExemplaryModel.id) == model_id, col(ExemplaryModel.status) == PENDING)
        .values(
            status=APPROVED if approve else REJECTED,
            decided_by=person_id,
            decided_at=utcnow(),
            reason=reason,
        )
    )
    await session.commit()
    return bool(done.rowcount)


# What the KPIs count. A report counts in the period its day falls in; a model in the period
# it was approved in.

_reports = table_of(ActivityReport)
_models = table_of(ExemplaryModel)
_units = table_of(Unit)


def _sent(period: Period, units: Collection[int] | None, plan: str | None) -> list[Any]:
    """Sent reports held in the period, by `units` (None: any), for `plan` (None: any plan)."""
    r = _reports.c
    where = [r.status == SENT, r.held_on >= period.first, r.held_on <= period.last]
    if units is not None:
        where.append(r.unit_id.in_(list(units)))
    if plan is not None:
        where.append(r.plan == plan)
    return where


async def reports_by_unit(
    conn: AsyncConnection,
    kind: str,
    period: Period,
    units: Collection[int] | None,
    plan: str | None = None,
) -> Counter[int]:
    """Sent reports of `kind` held in the period for `plan`, per reporting unit."""
    query = (
        select(_reports.c.unit_id, func.count())
        .where(_reports.c.kind == kind, *_sent(period, units, plan))
        .group_by(_reports.c.unit_id)
    )
    return Counter({unit: int(n) for unit, n in (await conn.execute(query)).all()})


async def held(
    conn: AsyncConnection, period: Period, units: Collection[int] | None, plan: str | None
) -> list[dict[str, Any]]:
    """The sent reports held in the period, by day then unit name: what the filed report lists
    (never their notes: free text stays in chat)."""
    r, u = _reports.c, _units.c
    query = (
        sa.select(r.kind, u.code, u.name, r.held_on, r.plan, r.theme, r.participants)
        .join(_units, u.id == r.unit_id)
        .where(*_sent(period, units, plan))
        .order_by(r.held_on, u.name, r.id)
    )
    return [
        {
            "kind": kind,
            "unit": {"code": code, "name": name},
            "held_on": day.isoformat() if day else None,
            "plan": plan_id,
            "theme": theme,
            "participants": {p: (counts or {}).get(p) for p in PARTICIPANTS},
        }
        for kind, code, name, day, plan_id, theme, counts in (await conn.execute(query)).all()
    ]


async def approved_by_unit(
    conn: AsyncConnection, period: Period, units: Collection[int] | None
) -> Counter[int]:
    """Models approved in the period, per school."""
    query = (
        select(_models.c.unit_id, func.count())
        .where(
            _models.c.status == APPROVED,
            _models.c.decided_at >= period.start,
            _models.c.decided_at < period.end,
        )
        .group_by(_models.c.unit_id)
    )
    if units is not None:
        query = query.where(_models.c.unit_id.in_(list(units)))
    return Counter({unit: int(n) for unit, n in (await conn.execute(query)).all() if unit})


async def approved(
    conn: AsyncConnection, period: Period, units: Collection[int] | None
) -> list[dict[str, Any]]:
    """The models approved in the period, by day of approval (local) then school name."""
    m, u = _models.c, _units.c
    query = (
        select(m.title, u.code, u.name, m.decided_at)
        .join(_units, u.id == m.unit_id)
        .where(m.status == APPROVED, m.decided_at >= period.start, m.decided_at < period.end)
        .order_by(m.decided_at, u.name, m.id)
    )
    if units is not None:
        query = query.where(m.unit_id.in_(list(units)))
    return [
        {
            "title": title,
            "school": {"code": code, "name": name},
            "approved_on": at.astimezone(period.tz).date().isoformat(),
        }
        for title, code, name, at in (await conn.execute(query)).all()
    ]


async def school_codes(conn: AsyncConnection, units: Collection[int] | None) -> dict[int, str]:
    """The active schools among `units` (None: every one): id → code."""
    query = select(_units.c.id, _units.c.code).where(
        _units.c.kind == "school", _units.c.active.is_(True)
    )
    if units is not None:
        query = query.where(_units.c.id.in_(list(units)))
    return {unit: code for unit, code in (await conn.execute(query)).all()}


async def unit_codes(conn: AsyncConnection, ids: Collection[int]) -> dict[int, str]:
    query = select(_units.c.id, _units.c.code).where(_units.c.id.in_(list(ids)))
    return {unit: code for unit, code in (await conn.execute(query)).all()}
