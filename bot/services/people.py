"""The people and chats feedback is attached to (kept to platform id and display name)."""

from __future__ import annotations

from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.domain import ChatType, Platform, PlatformUser
from bot.storage.db import Database
from bot.storage.models import Chat, Person, utcnow


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


async def private_chat(session: AsyncSession, person: Person) -> int:
    """Our id of `person`'s private chat with the bot, its row made if loa has none yet (a
    private chat's id is its person's id on both platforms). Flushes, does not commit."""
    query = select(Chat).where(
        Chat.platform == person.platform,
        Chat.platform_chat_id == person.platform_user_id,
        Chat.type == ChatType.PRIVATE,
    )
    chat = (await session.exec(query)).first()
    if chat is None:
        chat = Chat(
            platform=person.platform,
            platform_chat_id=person.platform_user_id,
            type=ChatType.PRIVATE,
        )
        session.add(chat)
        await session.flush()
    assert chat.id is not None
    return chat.id
