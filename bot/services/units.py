"""The unit tree (ward → departments, schools → classes; residential groups): lookups that
permissions, group binding and audience selection share."""

from __future__ import annotations

from collections.abc import Iterable

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.storage.models import Unit


async def subtree_ids(session: AsyncSession, roots: Iterable[int]) -> set[int]:
    """`roots` and every active unit below them. The tree is a few thousand rows at most (a
    province's schools and classes), so it is walked in memory from one query."""
    rows = (await session.exec(select(Unit.id, Unit.parent_id).where(col(Unit.active)))).all()
    children: dict[int | None, list[int]] = {}
    for unit_id, parent_id in rows:
        assert unit_id is not None
        children.setdefault(parent_id, []).append(unit_id)
    found: set[int] = set()
    stack = list(roots)
    while stack:
        unit_id = stack.pop()
        if unit_id not in found:
            found.add(unit_id)
            stack.extend(children.get(unit_id, ()))
    return found


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
        if unit.kind == "school":
            return unit.id
        current = unit.parent_id
    return None
