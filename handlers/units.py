"""/donvi lists the units a staff member acts for, with their codes; /themdonvi lets officials
and school administrators add a class (under a school) or a residential group (under a ward)
without editing units.yaml."""

from __future__ import annotations

from sqlmodel import col, select

from bot.dispatch import Context, Router
from bot.domain import UnitKind
from bot.services.permissions import Action, may
from bot.storage.models import Unit
from content.units import class_code

# What may be added in chat, under what.
ADDS_UNDER = {UnitKind.school: UnitKind.class_, UnitKind.ward: UnitKind.residential_group}


async def list_units(ctx: Context) -> None:
    allowed = ctx.scope
    async with ctx.db.session() as session:
        units = (await session.exec(select(Unit).where(col(Unit.id).in_(allowed)))).all()
    by_parent: dict[int | None, list[Unit]] = {}
    for unit in units:
        parent = unit.parent_id if unit.parent_id in allowed else None
        by_parent.setdefault(parent, []).append(unit)
    lines: list[tuple[int, str, str]] = []  # (depth, code, name), tree order

    def walk(parent: int | None, depth: int) -> None:
        for unit in sorted(by_parent.get(parent, []), key=lambda u: (u.kind, u.name)):
            lines.append((depth, unit.code, unit.name))
            walk(unit.id, depth + 1)

    walk(None, 0)
    async with ctx.db.session() as session:
        may_add = await may(session, ctx.person_id, Action.ADD_UNIT)
    ctx.reply("units_list", lines=lines[:150], more=max(0, len(lines) - 150), may_add=may_add)


async def add_unit(ctx: Context) -> None:
    parent_code, _, name = ctx.args.strip().partition(" ")
    name = " ".join(name.split())[:200]
    allowed = ctx.scope
    async with ctx.db.session() as session:
        if not parent_code or not name:
            ctx.reply("unit_added", outcome="usage")
            return
        query = select(Unit).where(Unit.code == parent_code.lower(), col(Unit.active))
        parent = (await session.exec(query)).first()
        kind = ADDS_UNDER.get(UnitKind(parent.kind)) if parent else None
        if parent is None or parent.id is None or kind is None:
            ctx.reply("unit_added", outcome="no_parent", code=parent_code)
            return
        if parent.id not in allowed:
            ctx.reply("not_allowed")
            return
        code = class_code(parent.code, name)
        if (await session.exec(select(Unit).where(Unit.code == code))).first() is not None:
            ctx.reply("unit_added", outcome="exists", code=code, name=name)
            return
        session.add(Unit(code=code, name=name, kind=kind, parent_id=parent.id, source="chat"))
        await session.commit()
    ctx.reply("unit_added", outcome="done", code=code, name=name, parent_name=parent.name)


def router() -> Router:
    r = Router()
    r.command("donvi", action=Action.LIST_UNITS)(list_units)
    r.command("themdonvi", action=Action.ADD_UNIT)(add_unit)
    return r
