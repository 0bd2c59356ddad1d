"""The people and chats feedback is attached to (kept to platform id and display name)."""

from __future__ import annotations

from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.domain import Platform, PlatformUser
from bot.storage.db import Database
from bot.storage.models import Person, utcnow


async def upsert_person(
    session: AsyncSession, db: Database, platform: Platform, user: PlatformUser
) -> int:
    """The id of the person behind `user`, created on first contact; a changed display name is
    updated. One statement, so two taps at once cannot create two people."""
    insert = sqlite.insert if db.is_sqlite else postgresql.insert
    values = insert(Person).values(
        platform=platform.value,
        platform_user_id=user.id,
        display_name=user.name[:255],
        created_at=utcnow(),
    )
    stmt = values.on_conflict_do_update(
        index_elements=[Person.platform, Person.platform_user_id],
        set_={"display_name": values.excluded.display_name},
    ).returning(col(Person.id))
    person_id: int = (await session.exec(stmt)).scalar_one()
    return person_id


async def find_person(
    session: AsyncSession, platform: Platform, user: PlatformUser | None
) -> Person | None:
    """The person behind `user` if loa has met them (never creates one)."""
    if user is None:
        return None
    query = select(Person).where(
        Person.platform == platform.value, Person.platform_user_id == user.id
    )
    return (await session.exec(query)).first()
