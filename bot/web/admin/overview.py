"""/admin/: each plan's targets (target, achieved, status), reach over the period's weeks, and
what needs the viewer now: announcements and models waiting for a decision, duties overdue,
deliveries that failed or may not have arrived (and what to do about them)."""

from __future__ import annotations

from dataclasses import dataclass

from aiohttp import web
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.services import tasks
from bot.storage.deliveries import failure_of
from bot.storage.models import (
    Announcement,
    AnnouncementStatus,
    Chat,
    Delivery,
    DeliveryStatus,
    ExemplaryModel,
    Occurrence,
    TaskStatus,
    table_of,
)
from bot.web.admin.chart import reach_chart
from bot.web.admin.deps import Viewer, dashboard, viewer
from bot.web.admin.figures import Seen, seen
from bot.web.admin.pages import page

UNDELIVERED_SHOWN = 20


@dataclass(frozen=True, slots=True)
class Undelivered:
    chat: int
    title: str
    unit: str
    post: str
    status: str  # failed | uncertain
    failure: str | None  # bot.storage.deliveries.Failure, for a failed one


async def overview(request: web.Request) -> web.StreamResponse:
    dash, who = dashboard(request), viewer(request)
    s = await seen(request)
    async with dash.db.reading() as conn:
        undelivered = await _undelivered(conn, who, s)
        waiting = await _waiting(conn, who)
    async with dash.db.session() as session:
        now = dash.now()
        overdue = [
            line
            for line in await tasks.overview(session, who.scope)
            if line.task.deadline is not None
            and line.task.deadline < now
            and line.status != TaskStatus.DONE
        ]
    weeks, total = s.snap.weeks, s.snap.total
    return page(
        request,
        "overview.html",
        s=s,
        total=total,
        rate=total.as_dict(),
        posts=len(s.reach.sent_posts()),
        plans=s.snap.kpis,
        chart=reach_chart(weeks, "Số người được đề nghị xác nhận và đã bấm «Đã hiểu» theo tuần"),
        weeks=weeks,
        undelivered=undelivered,
        overdue=overdue,
        waiting=waiting,
    )


async def _waiting(conn: AsyncConnection, who: Viewer) -> dict[str, int]:
    """Announcements and models waiting for a decision this viewer may take."""
    a, m = table_of(Announcement), table_of(ExemplaryModel)
    pending = await conn.execute(
        select(a.c.unit_ids, a.c.author_id).where(a.c.status == AnnouncementStatus.PENDING)
    )
    announcements = sum(
        1
        for units, author in pending
        if author != who.person_id and units and set(units) <= who.approve
    )
    models = 0
    if who.decide_models:
        models = (
            await conn.execute(
                select(func.count()).where(
                    m.c.status == "pending", m.c.unit_id.in_(list(who.decide_models))
                )
            )
        ).scalar_one()
    return {"announcements": announcements, "models": int(models)}


async def _undelivered(conn: AsyncConnection, who: Viewer, s: Seen) -> list[Undelivered]:
    d, c, o = table_of(Delivery), table_of(Chat), table_of(Occurrence)
    rows = await conn.execute(
        select(c.c.id, c.c.title, c.c.unit_id, o.c.title, d.c.status, failure_of(d.c.error))
        .join(c, c.c.id == d.c.chat_id)
        .join(o, o.c.id == d.c.occurrence_id)
        .where(
            d.c.status.in_([DeliveryStatus.FAILED, DeliveryStatus.UNCERTAIN]),
            o.c.due_at >= s.period.start,
            o.c.due_at < s.period.end,
            c.c.unit_id.in_(list(who.scope)),
        )
        .order_by(o.c.due_at.desc(), c.c.id)
        .limit(UNDELIVERED_SHOWN)
    )
    out = []
    for chat, title, unit, post, status, failure in rows:
        name = s.tree.units[unit].name if unit in s.tree.units else ""
        failed = status == DeliveryStatus.FAILED
        out.append(Undelivered(chat, title, name, post, status, failure if failed else None))
    return out


def routes(r: web.RouteTableDef) -> None:
    r.get("/")(overview)
