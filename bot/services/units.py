"""The unit tree (ward → departments, schools → classes; residential groups): lookups that
permissions, group binding and audience selection share."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.domain import UnitKind
from bot.storage.db import Database
from bot.storage.models import Chat, Unit
from content.units import UnitSpec


async def subtree_ids(session: AsyncSession, roots: Iterable[int]) -> set[int]:
    """The active ones of `roots` and every active unit below them. The tree is a few
    thousand rows at most (a province's schools and classes): walked in memory, one query."""
    rows = (await session.exec(select(Unit.id, Unit.parent_id).where(col(Unit.active)))).all()
    children: dict[int | None, list[int]] = {}
    for unit_id, parent_id in rows:
        assert unit_id is not None
        children.setdefault(parent_id, []).append(unit_id)
    active = {unit_id for unit_id, _ in rows}
    found: set[int] = set()
    stack = [root for root in roots if root in active]
    while stack:
        unit_id = stack.pop()
        if unit_id not in found:
            found.add(unit_id)
            stack.extend(children.get(unit_id, ()))
    return found


async def tops(session: AsyncSession, scope: set[int]) -> list[Unit]:
    """The highest units of a scope (a teacher's school, an official's ward), by name."""
    units = (await session.exec(select(Unit).where(col(Unit.id).in_(scope)))).all()
    return sorted((u for u in units if u.parent_id not in scope), key=lambda u: u.name)


async def ids_by_code(session: AsyncSession, codes: Iterable[str]) -> dict[str, int]:
    """Our ids of the active units with these codes (unknown codes are left out)."""
    query = select(Unit.code, Unit.id).where(col(Unit.code).in_(list(codes)), col(Unit.active))
    return {code: unit_id for code, unit_id in (await session.exec(query)).all() if unit_id}


async def school_of(session: AsyncSession, unit_id: int) -> int | None:
    """The school a unit is or belongs to (a class's school), or None above schools."""
    current: int | None = unit_id
    while current is not None:
        unit = await session.get(Unit, current)
        if unit is None:
            return None
        if unit.kind == UnitKind.school:
            return unit.id
        current = unit.parent_id
    return None


async def sync_units(db: Database, specs: Sequence[UnitSpec]) -> int:
    """Make the `file` units match units.yaml: new codes are added, names, kinds and parents
    follow the file, and codes gone from the file become inactive (history still points at
    them). Units officials added in chat are left alone. Returns how many units are active."""
    async with db.session() as session:
        existing = {u.code: u for u in (await session.exec(select(Unit))).all()}
        ids: dict[str, int] = {}
        for spec in specs:  # parents first
            unit = existing.get(spec.code) or Unit(code=spec.code, name=spec.name, kind=spec.kind)
            unit.name, unit.kind, unit.source, unit.active = spec.name, spec.kind, "file", True
            unit.level = spec.level.value if spec.level else None
            unit.parent_id = ids[spec.parent] if spec.parent else None
            session.add(unit)
            await session.flush()
            assert unit.id is not None
            ids[spec.code] = unit.id
        for code, unit in existing.items():
            if unit.source == "file" and code not in ids and unit.active:
                unit.active = False
                session.add(unit)
        await session.commit()
        return len(ids) + sum(1 for u in existing.values() if u.source != "file" and u.active)


async def bound_chats(
    session: AsyncSession, audiences: Iterable[str], roots: Iterable[int] | None
) -> list[int]:
    """Active chats bound to one of `audiences` in `roots` or below them (None: anywhere).
    An unbound chat has no audience, so it is never among them."""
    query = select(Chat.id).where(col(Chat.active), col(Chat.audience).in_(list(audiences)))
    if roots is not None:
        query = query.where(col(Chat.unit_id).in_(await subtree_ids(session, roots)))
    else:  # a unit gone from units.yaml takes its groups with it
        query = query.where(col(Chat.unit_id).in_(select(Unit.id).where(col(Unit.active))))
    return [chat_id for chat_id in (await session.exec(query)).all() if chat_id is not None]
