"""The people and chats feedback is attached to (kept to platform id and display name)."""

from __future__ import annotations

import functools
from typing import Any

from sqlalchemy import bindparam
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.domain import ChatType, Platform, PlatformUser
from bot.storage.db import Database
from bot.storage.models import Chat, Person, table_of, utcnow


async def upsert_person(
    session: AsyncSession, db: Database, platform: Platform, user: PlatformUser
) -> int:
    """The id of the person behind `user`, created on first contact; a changed display name is
    updated. One statement, so two taps at once cannot create two people. A linked account
    gives the id of the person it is linked to: one person, on two platforms."""
    values = {"platform": platform.value, "user": user.id, "name": user.name[:255], "at": utcnow()}
    person_id, linked_to = (await session.exec(_upsert(db.is_sqlite), params=values)).one()
    return int(linked_to if linked_to is not None else person_id)


# The statements of every tap and private message are built once, with their values bound at
# each execution: building one took more of the CPU than sending and running it. They are Core
# statements on the table, not on the model: SQLAlchemy's ORM path for an INSERT or UPDATE
# cost twice the rest of the statement.
@functools.cache
def _upsert(is_sqlite: bool) -> Any:
    table = table_of(Person)
    insert = sqlite.insert if is_sqlite else postgresql.insert
    values = insert(table).values(
        platform=bindparam("platform", type_=table.c.platform.type),
        platform_user_id=bindparam("user", type_=table.c.platform_user_id.type),
        display_name=bindparam("name", type_=table.c.display_name.type),
        created_at=bindparam("at", type_=table.c.created_at.type),
    )
    return values.on_conflict_do_update(
        index_elements=[table.c.platform, table.c.platform_user_id],
        set_={"display_name": values.excluded.display_name},
    ).returning(table.c.id, table.c.linked_to)


_FIND = select(Person).where(
    col(Person.platform) == bindparam("platform"), col(Person.platform_user_id) == bindparam("user")
)


async def find_person(
    session: AsyncSession, platform: Platform, user: PlatformUser | None
) -> Person | None:
    """The person behind `user` if loa has met them (never creates one): where the account is
    linked to the same person's account on another platform, that one."""
    if user is None:
        return None
    params = {"platform": platform.value, "user": user.id}
    person = (await session.exec(_FIND, params=params)).first()
    if person is not None and person.linked_to is not None:
        return await session.get(Person, person.linked_to) or person
    return person


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
