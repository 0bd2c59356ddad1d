"""The figures a dashboard page shows, from the one reach and KPI modules (bot.services.reach,
bot.services.kpis) that `/thongke` and `loa report` use, over the viewer's units."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from aiohttp import web
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.reports.period import Period, PeriodError, parse_period, quarter_of
from bot.services.kpis import Kpi, Scope, evaluate
from bot.services.reach import Figures, Filter, Reach, UnitTree, reach, unit_tree
from bot.storage.deliveries import failure_of
from bot.storage.models import Chat, Delivery, DeliveryStatus, Occurrence, table_of
from bot.web.admin.deps import Dashboard, dashboard, viewer

UNDELIVERED_SHOWN = 20


@dataclass(frozen=True, slots=True)
class Undelivered:
    """A chat a post of the period failed to reach, or may not have reached."""

    chat: int
    title: str
    unit: str
    post: str
    status: str  # failed | uncertain
    failure: str | None  # bot.storage.deliveries.Failure, for a failed one


@dataclass(frozen=True)
class Snapshot:
    """A period's figures over some units, as computed at `at` (bot.web.admin.snapshots)."""

    reach: Reach
    tree: UnitTree
    kpis: list[tuple[str, list[Kpi]]]  # (plan title, its targets measured), by plan id
    at: datetime
    # Roll-ups every page view would otherwise redo (tens of thousands of cells at a province):
    total: Figures
    by_unit: dict[int, Figures]  # each unit with everything below it
    cells: dict[tuple[int | None, str | None], Figures]  # per unit (a class, a school) and audience
    weeks: list[tuple[str, Figures]]
    undelivered: list[Undelivered]  # the latest few


@dataclass(frozen=True)
class Seen:
    """A period's reach over the viewer's units, the unit tree to name them, each plan's KPIs,
    and when they were computed."""

    period: Period
    snap: Snapshot
    error: str | None = None  # the period asked for did not parse: the current quarter instead

    @property
    def reach(self) -> Reach:
        return self.snap.reach

    @property
    def tree(self) -> UnitTree:
        return self.snap.tree

    @property
    def at(self) -> datetime:
        return self.snap.at


def period_of(request: web.Request) -> tuple[Period, str | None]:
    """`?ky=2026-Q4` (any form `loa report` takes), else the current quarter."""
    dash = dashboard(request)
    asked = request.query.get("ky", "").strip()
    if asked:
        try:
            return parse_period(asked, dash.tz), None
        except PeriodError:
            pass
    current = quarter_of(dash.now().astimezone(dash.tz).date(), dash.tz)
    return current, (f"Kỳ «{asked}» không hợp lệ" if asked else None)


async def seen(request: web.Request) -> Seen:
    dash, who = dashboard(request), viewer(request)
    period, error = period_of(request)
    snap = await dash.figures.get(
        (period.label, who.scope), lambda: _compute(dash, period, who.scope)
    )
    return Seen(period, snap, error)


async def _compute(dash: Dashboard, period: Period, units: frozenset[int]) -> Snapshot:
    now = dash.now()
    f = Filter(period, units=units)
    async with dash.db.reading() as conn:
        found = await reach(conn, f)
        tree = await unit_tree(conn)
        measured = []
        for plan_id in sorted(dash.content.plans):
            plan = dash.content.plans[plan_id]
            scope = Scope(found, dash.content.campaigns(plan_id), f, now)
            measured.append((plan.title, await evaluate(conn, plan, scope)))
        undelivered = await _undelivered(conn, period, units, tree)
    cells = found.by_place(lambda p: (p.unit, p.audience))
    return Snapshot(found, tree, measured, now, found.total(), found.by_unit(tree), cells,
                    weekly(found, period), undelivered)  # fmt: skip


async def _undelivered(
    conn: AsyncConnection, period: Period, units: frozenset[int], tree: UnitTree
) -> list[Undelivered]:
    d, c, o = table_of(Delivery), table_of(Chat), table_of(Occurrence)
    rows = await conn.execute(
        select(c.c.id, c.c.title, c.c.unit_id, o.c.title, d.c.status, failure_of(d.c.error))
        .join(c, c.c.id == d.c.chat_id)
        .join(o, o.c.id == d.c.occurrence_id)
        .where(
            d.c.status.in_([DeliveryStatus.FAILED, DeliveryStatus.UNCERTAIN]),
            o.c.due_at >= period.start,
            o.c.due_at < period.end,
            c.c.unit_id.in_(list(units)),
        )
        .order_by(o.c.due_at.desc(), c.c.id)
        .limit(UNDELIVERED_SHOWN)
    )
    out = []
    for chat, title, unit, post, status, failure in rows:
        name = tree.units[unit].name if unit in tree.units else ""
        failed = status == DeliveryStatus.FAILED
        out.append(Undelivered(chat, title, name, post, status, failure if failed else None))
    return out


def weekly(found: Reach, period: Period) -> list[tuple[str, Figures]]:
    """Reach by the local week (its Monday, "dd/mm") of the posts' due times, every week of
    the period shown, empty ones too."""
    tz = period.tz

    def monday(moment: datetime) -> str:
        day = moment.astimezone(tz).date()
        return (day - timedelta(days=day.weekday())).isoformat()

    by_week: dict[str, Figures] = found.by_post_audience(lambda post, _: monday(post.due_at))
    first = period.first - timedelta(days=period.first.weekday())
    weeks = []
    day = first
    while day <= period.last:
        weeks.append(day.isoformat())
        day += timedelta(days=7)
    return [(f"{w[8:10]}/{w[5:7]}", by_week.get(w, Figures())) for w in weeks]
