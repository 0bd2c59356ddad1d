"""The people and chats feedback is attached to (kept to platform id and display name)."""

from __future__ import annotations

import functools
from typing import Any

from sqlalchemy import bindparam
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.domain import Platform, PlatformUser
from bot.storage.db import Database
from bot.storage.models import Person, table_of, utcnow


async def upsert_person(
    session: AsyncSession, db: Database, platform: Platform, user: PlatformUser
) -> int:
    """The id of the person behind `user`, created on first contact; a changed display name is
    updated. One statement, so two taps at once cannot create two people."""
    values = {"platform": platform.value, "user": user.id, "name": user.name[:255], "at": utcnow()}
    person_id: int = (await session.exec(_upsert(db.is_sqlite), params=values)).scalar_one()
    return person_id


# The statements of every tap and private message are built once, with their values bound at
# each execution: building one took more of the CPU than sending and running it.
@functools.cache
def _upsert(is_sqlite: bool) -> Any:
    table = table_of(Person)
    insert = sqlite.insert if is_sqlite else postgresql.insert
    values = insert(Person).values(
        platform=bindparam("platform", type_=table.c.platform.type),
        platform_user_id=bindparam("user", type_=table.c.platform_user_id.type),
        display_name=bindparam("name", type_=table.c.display_name.type),
        created_at=bindparam("at", type_=table.c.created_at.type),
    )
    return values.on_conflict_do_update(
        index_elements=[Person.platform, Person.platform_user_id],
        set_={"display_name": values.excluded.display_name},
    ).returning(col(Person.id))


_FIND = select(Person).where(
    col(Person.platform) == bindparam("platform"), col(Person.platform_user_id) == bindparam("user")
)


async def find_person(
    session: AsyncSession, platform: Platform, user: PlatformUser | None
) -> Person | None:
    """The person behind `user` if loa has met them (never creates one)."""
    if user is None:
        return None
    return (await session.exec(_FIND, params={"platform": platform.value, "user": user.id})).first()
