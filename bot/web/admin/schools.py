"""/admin/truong: per school — reach, acknowledged, understood, activity reports, models —
sortable (?sap=…&chieu=…), then per class group (unit and audience), the groups that never
acknowledge first. /admin/truong/<code>: one school's groups and who has not acknowledged its
latest staff briefing. /admin/nhom/<id>: one group, the people behind its figures."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from aiohttp import web
from sqlalchemy import func, select

from bot.domain import UnitKind
from bot.services import activities
from bot.services.reach import Figures, Place, latest_briefings
from bot.storage.models import ActivityReport, Chat, Feedback, Occurrence, Person, table_of
from bot.web.admin.deps import dashboard, viewer
from bot.web.admin.figures import Seen, seen
from bot.web.admin.pages import page

GROUPS_SHOWN = 100  # the worst first; a school's page lists all of its groups
SORTS = {
    "ten": lambda r: r.name,
    "nhan": lambda r: r.figures.audience,
    "hieu": lambda r: r.figures.acknowledged_share(),
    "dung": lambda r: r.figures.understood / r.figures.answered if r.figures.answered else 0,
    "baocao": lambda r: r.reports,
    "mohinh": lambda r: r.models,
}


@dataclass(frozen=True, slots=True)
class SchoolRow:
    unit: int
    code: str
    name: str
    figures: Figures
    reports: int
    models: int


@dataclass(frozen=True, slots=True)
class GroupRow:
    unit: int
    name: str  # the unit's
    school: str
    school_code: str | None
    audience: str | None
    figures: Figures

    @property
    def never(self) -> bool:
        """Asked to acknowledge, and nobody ever did."""
        return self.figures.ack_audience > 0 and self.figures.acknowledged == 0


async def schools(request: web.Request) -> web.StreamResponse:
    dash, who = dashboard(request), viewer(request)
    s = await seen(request)
    by_unit = s.snap.by_unit
    async with dash.db.reading() as conn:
        # every active school, then the viewer's: no IN list of a province's units
        codes = {
            u: c for u, c in (await activities.school_codes(conn, None)).items() if who.sees(u)
        }
        reports = await _reports(conn, s, codes)
        models = await activities.approved_by_unit(conn, s.period, list(codes))
    rows = [
        SchoolRow(u, code, s.tree.units[u].name, by_unit.get(u, Figures()), reports[u], models[u])
        for u, code in codes.items()
    ]
    key = request.query.get("sap", "ten")
    descending = request.query.get("chieu", "giam" if key != "ten" else "tang") == "giam"
    rows.sort(key=SORTS.get(key, SORTS["ten"]), reverse=descending)
    groups = _groups(s, s.snap.cells)
    more = max(0, len(groups) - GROUPS_SHOWN)
    return page(request, "schools.html", s=s, rows=rows, groups=groups[:GROUPS_SHOWN],
                more=more, sort=key, descending=descending)  # fmt: skip


async def school(request: web.Request) -> web.StreamResponse:
    dash, who = dashboard(request), viewer(request)
    s = await seen(request)
    code = request.match_info["code"]
    unit = next((u for u, row in s.tree.units.items() if row.code == code), None)
    if unit is None or not who.sees(unit) or s.tree.units[unit].kind != UnitKind.school:
        raise web.HTTPNotFound()
    under = {u for u in who.scope if unit in s.tree.chain(u)}
    cells = {k: f for k, f in s.snap.cells.items() if k[0] in under}
    async with dash.db.reading() as conn:
        briefings = await latest_briefings(conn, s.period, under, s.tree)
        chats = (
            await conn.execute(
                select(table_of(Chat).c.id, table_of(Chat).c.title, table_of(Chat).c.unit_id,
                       table_of(Chat).c.audience, table_of(Chat).c.active)
                .where(table_of(Chat).c.unit_id.in_(list(under)))
                .order_by(table_of(Chat).c.title)
            )
        ).all()  # fmt: skip
    return page(request, "school.html", s=s, school=s.tree.units[unit].name,
                groups=_groups(s, cells), briefings=briefings, chats=chats)  # fmt: skip


def _groups(s: Seen, cells: Mapping[Any, Figures]) -> list[GroupRow]:
    rows = []
    for (unit, audience), figures in cells.items():
        if unit is None or unit not in s.tree.units:
            continue
        school = s.tree.of_kind(unit, UnitKind.school)
        row = s.tree.units[school] if school is not None else None
        name = s.tree.units[unit].name
        rows.append(GroupRow(unit, name, row.name if row else "", row.code if row else None,
                             audience, figures))  # fmt: skip
    return sorted(rows, key=lambda g: (not g.never, g.figures.acknowledged_share(), g.name))


async def _reports(conn: Any, s: Seen, codes: dict[int, str]) -> Counter[int]:
    """Sent activity reports held in the period, per school (of every kind)."""
    r = table_of(ActivityReport)
    rows = await conn.execute(
        select(r.c.unit_id, func.count())
        .where(
            r.c.status == activities.SENT,
            r.c.held_on >= s.period.first,
            r.c.held_on <= s.period.last,
            r.c.unit_id.in_(list(codes)),
        )
        .group_by(r.c.unit_id)
    )
    return Counter({unit: int(n) for unit, n in rows})


async def group(request: web.Request) -> web.StreamResponse:
    """One chat: each post of the period sent to it, and who acknowledged or answered it."""
    dash, who = dashboard(request), viewer(request)
    s = await seen(request)
    chat_id = int(request.match_info["chat"])
    c, fb, o, p = table_of(Chat), table_of(Feedback), table_of(Occurrence), table_of(Person)
    async with dash.db.reading() as conn:
        chat = (await conn.execute(select(c).where(c.c.id == chat_id))).first()
        if chat is None or not who.sees(chat.unit_id):
            raise web.HTTPNotFound()
        rows = (
            await conn.execute(
                select(o.c.title, o.c.due_at, fb.c.kind, fb.c.value, p.c.display_name)
                .join(o, o.c.id == fb.c.occurrence_id)
                .outerjoin(p, p.c.id == fb.c.person_id)
                .where(fb.c.chat_id == chat_id, o.c.due_at >= s.period.start,
                       o.c.due_at < s.period.end)
                .order_by(o.c.due_at, fb.c.kind, p.c.display_name)
            )
        ).all()  # fmt: skip
    cells = s.reach.by_place(lambda pl: pl if pl.unit == chat.unit_id else None)
    here = cells.get(Place(chat.unit_id, chat.audience, chat.platform), Figures())
    return page(request, "group.html", s=s, chat=chat, rows=rows, figures=here,
                unit=s.tree.units[chat.unit_id].name)  # fmt: skip


def routes(r: web.RouteTableDef) -> None:
    r.get("/truong")(schools)
    r.get("/truong/{code}")(school)
    r.get(r"/nhom/{chat:\d+}")(group)
