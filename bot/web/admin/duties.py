"""/admin/nhiemvu: the plans' «06 rõ» duties of the viewer's units — owner, deadline, status,
result — as /viec lists them (bot.services.tasks.overview), overdue ones marked."""

from __future__ import annotations

from aiohttp import web
from sqlmodel import col, select

from bot.services import tasks
from bot.storage.models import Person, Unit
from bot.web.admin.deps import dashboard, viewer
from bot.web.admin.pages import page


async def duties(request: web.Request) -> web.StreamResponse:
    dash, who = dashboard(request), viewer(request)
    async with dash.db.read_session() as session:
        lines = await tasks.overview(session, who.scope)
        units = {u.id: u.name for u in (await session.exec(select(Unit))).all()}
        ids = [line.answer.person_id for line in lines if line.answer is not None]
        people = {
            p.id: p.display_name
            for p in (await session.exec(select(Person).where(col(Person.id).in_(ids)))).all()
        }
    return page(request, "duties.html", lines=lines, units=units, people=people, now=dash.now(),
                plans=dash.content.plans)  # fmt: skip


def routes(r: web.RouteTableDef) -> None:
    r.get("/nhiemvu")(duties)
