"""/admin/: each plan's targets (target, achieved, status), reach over the period's weeks, and
what needs the viewer now: announcements and models waiting for a decision, duties overdue,
deliveries that failed or may not have arrived (and what to do about them)."""

from __future__ import annotations

from datetime import datetime

from aiohttp import web
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.services import tasks
from bot.services.questions import REMIND_AFTER
from bot.storage.models import (
    Announcement,
    AnnouncementStatus,
    ExemplaryModel,
    FeedbackItem,
    ItemKind,
    ItemStatus,
    TaskStatus,
    table_of,
)
from bot.web.admin.chart import reach_chart
from bot.web.admin.deps import Viewer, dashboard, viewer
from bot.web.admin.figures import seen
from bot.web.admin.pages import page

UNDELIVERED_SHOWN = 20


async def overview(request: web.Request) -> web.StreamResponse:
    dash, who = dashboard(request), viewer(request)
    s = await seen(request)
    async with dash.db.reading() as conn:
        waiting = await _waiting(conn, who)
        waiting |= await _unanswered(conn, who, dash.now() - REMIND_AFTER)
    async with dash.db.read_session() as session:
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
        chart=reach_chart(weeks, "Số người được đề nghị và đã xác nhận «Đã hiểu» theo tuần"),
        weeks=weeks,
        undelivered=s.snap.undelivered,
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


async def _unanswered(conn: AsyncConnection, who: Viewer, late: datetime) -> dict[str, int]:
    """Questions of the viewer's units open past 48 h; misinformation reports open (for
    officials: those who decide models are the ward's officials)."""
    f = table_of(FeedbackItem)
    counted = await conn.execute(
        select(f.c.kind, func.count())
        .where(
            f.c.status == ItemStatus.OPEN,
            f.c.unit_id.in_(list(who.scope)),
            (f.c.kind == ItemKind.MISINFORMATION) | (f.c.created_at <= late),
        )
        .group_by(f.c.kind)
    )
    by_kind = {kind: int(n) for kind, n in counted}
    return {
        "questions": by_kind.get(ItemKind.QUESTION, 0),
        "misinformation": by_kind.get(ItemKind.MISINFORMATION, 0) if who.decide_models else 0,
    }


def routes(r: web.RouteTableDef) -> None:
    r.get("/")(overview)
