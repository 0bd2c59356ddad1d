"""/admin/hoatdong: the schools' activity reports (/baocao) with their evidence, and their
exemplary models (/mohinh); an official approves a model, or rejects it with a reason, through
bot.services.activities — its author is told in chat, as when decided in chat."""

from __future__ import annotations

import logging

from aiohttp import web
from sqlmodel import col, select

from bot.domain import OutboundMessage
from bot.services import activities
from bot.storage.models import ActivityReport, ExemplaryModel, Person, Unit
from bot.web.admin.chat import tell
from bot.web.admin.deps import dashboard, viewer
from bot.web.admin.figures import seen
from bot.web.admin.pages import page

log = logging.getLogger(__name__)


async def listing(request: web.Request) -> web.StreamResponse:
    dash, who = dashboard(request), viewer(request)
    s = await seen(request)
    school = request.query.get("truong")
    async with dash.db.read_session() as session:
        units = {u.id: u for u in (await session.exec(select(Unit))).all()}
        shown = {u for u in who.scope if school is None or units[u].code == school}
        reports = (
            await session.exec(
                select(ActivityReport)
                .where(
                    col(ActivityReport.unit_id).in_(shown),
                    ActivityReport.status == activities.SENT,
                    col(ActivityReport.held_on) >= s.period.first,
                    col(ActivityReport.held_on) <= s.period.last,
                )
                .order_by(col(ActivityReport.held_on).desc(), col(ActivityReport.id))
            )
        ).all()
        models = (
            await session.exec(
                select(ExemplaryModel)
                .where(col(ExemplaryModel.unit_id).in_(shown), ExemplaryModel.status != "draft")
                .order_by(col(ExemplaryModel.status) != activities.PENDING, col(ExemplaryModel.id))
            )
        ).all()
        ids = {r.person_id for r in reports} | {m.person_id for m in models}
        ids |= {m.decided_by for m in models}
        people = {
            p.id: p.display_name
            for p in (await session.exec(select(Person).where(col(Person.id).in_(ids)))).all()
        }
    return page(request, "activities.html", s=s, reports=reports, models=models, units=units,
                people=people, school=school, done=request.query.get("xong", ""),
                error=request.query.get("loi", ""), plans=dash.content.plans)  # fmt: skip


async def decide(request: web.Request) -> web.StreamResponse:
    dash, who = dashboard(request), viewer(request)
    number = int(request.match_info["number"])
    form = await request.post()
    approve = form.get("quyet") == "duyet"
    reason = " ".join(str(form.get("lydo", "")).split())[: activities.MAX_DESCRIPTION]
    async with dash.db.session() as session:
        model = await session.get(ExemplaryModel, number)
        if model is None or model.unit_id not in who.decide_models:
            raise web.HTTPNotFound()
        if model.person_id == who.person_id:
            raise web.HTTPSeeOther("/admin/hoatdong?loi=cuaminh#mo-hinh")
        if not approve and not reason:
            raise web.HTTPSeeOther(f"/admin/hoatdong?loi=lydo#mo-hinh-{number}")
        title, author_id = model.title, model.person_id
        decided = await activities.decide(
            session, number, who.person_id, approve=approve, reason=None if approve else reason
        )
        author = await session.get(Person, author_id or -1)
    if not decided:
        raise web.HTTPSeeOther("/admin/hoatdong?loi=daquyet#mo-hinh")
    if author is not None:
        outcome = "approved_author" if approve else "rejected_author"
        text = dash.templates.render("model_decided", outcome=outcome, title=title, by=who.name,
                                     reason=reason)  # fmt: skip
        await tell(dash, author.platform, OutboundMessage(author.platform_user_id, text))
    log.info("dashboard: model %d %s", number, "approved" if approve else "rejected")
    raise web.HTTPSeeOther(f"/admin/hoatdong?xong={'duyet' if approve else 'tuchoi'}#mo-hinh")


def routes(r: web.RouteTableDef) -> None:
    r.get("/hoatdong")(listing)
    r.post(r"/hoatdong/mohinh/{number:\d+}")(decide)
