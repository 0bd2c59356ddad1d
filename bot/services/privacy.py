"""What loa keeps about a person (/toi) and erasing it (/xoadulieu).

Erasure deletes the person, their roles and open flows, anonymises their private chat, and
unlinks everything else from them: answers, invites, bindings, approvals stay as anonymous
rows, so the reach and understanding counts of past posts do not change. Then the database
drops its older copies of what was changed (Database.scrub). Their wrong invite codes stay
counted (bot.services.invites), under a keyed hash of their id.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import delete, func, update
from sqlmodel import SQLModel, col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.domain import ChatType
from bot.storage.db import Database
from bot.storage.models import (
    ActivityReport,
    Announcement,
    Chat,
    Conversation,
    Evidence,
    ExemplaryModel,
    Feedback,
    FeedbackItem,
    InboxUpdate,
    Invite,
    Person,
    Role,
    SignInLink,
    TaskAnswer,
    Unit,
    WebSession,
)

# Columns that point at a person and are kept, unlinked, when the person is erased.
_LINKS = (
    (Person, "linked_to"),  # the same person's other account: it stays, on its own
    (Feedback, "person_id"),
    (Invite, "created_by"),
    (Chat, "added_by"),
    (Chat, "bound_by"),
    (Announcement, "author_id"),
    (Announcement, "approved_by"),
    (TaskAnswer, "person_id"),
    (ActivityReport, "person_id"),
    (ExemplaryModel, "person_id"),
    (ExemplaryModel, "decided_by"),
    (FeedbackItem, "person_id"),
    (FeedbackItem, "answered_by"),
    (Evidence, "person_id"),
)

# Tables whose rows erasure deletes or rewrites: where older versions of the person linger.
_TOUCHED = sorted(
    {model.__tablename__ for model, _ in _LINKS}
    | {t.__tablename__ for t in (Person, Role, Conversation, Chat, InboxUpdate)}
)


@dataclass(frozen=True)
class Kept:
    name: str
    platform: str
    since: datetime
    roles: list[tuple[str, str]] = field(default_factory=list)  # (role, unit name)
    answers: dict[str, int] = field(default_factory=dict)  # feedback kind → count
    invites: int = 0
    groups: int = 0
    announcements: int = 0  # written
    approvals: int = 0  # announcements approved
    task_results: int = 0
    activity_reports: int = 0  # sent with /baocao
    models: int = 0  # put forward with /mohinh
    questions: int = 0  # questions, suggestions, misinformation reports (their text)


async def kept_about(session: AsyncSession, person: Person) -> Kept:
    pid = person.id
    roles = await session.exec(
        select(Role.role, Unit.name)
        .join(Unit, col(Unit.id) == Role.unit_id)
        .where(Role.person_id == pid)
    )
    answers = await session.exec(
        select(Feedback.kind, func.count())
        .where(Feedback.person_id == pid)
        .group_by(col(Feedback.kind))
    )
    invites = await session.exec(
        select(func.count()).select_from(Invite).where(Invite.created_by == pid)
    )
    groups = await session.exec(select(func.count()).select_from(Chat).where(Chat.bound_by == pid))

    async def count(model: type[SQLModel], column: str) -> int:
        query = select(func.count()).select_from(model).where(getattr(model, column) == pid)
        return int((await session.exec(query)).one())

    return Kept(
        name=person.display_name,
        platform=person.platform,
        since=person.created_at,
        roles=sorted((r, u) for r, u in roles.all()),
        answers={kind: int(n) for kind, n in answers.all()},
        invites=int(invites.one()),
        groups=int(groups.one()),
        announcements=await count(Announcement, "author_id"),
        approvals=await count(Announcement, "approved_by"),
        task_results=await count(TaskAnswer, "person_id"),
        activity_reports=await count(ActivityReport, "person_id"),
        models=await count(ExemplaryModel, "person_id"),
        questions=await count(FeedbackItem, "person_id"),
    )


async def erase(db: Database, platform: str, platform_user_id: str) -> bool:
    """Erase the person with this platform id; False if loa holds nothing about them."""
    async with db.session() as session:
        query = select(Person).where(
            Person.platform == platform, Person.platform_user_id == platform_user_id
        )
        person = (await session.exec(query)).first()
        if person is not None:
            pid = person.id
            # The progress message of their announcements sat in their private chat.
            await session.exec(
                update(Announcement)
                .where(col(Announcement.author_id) == pid)
                .values(progress_chat=None, progress_message=None)
            )
            # What they wrote goes with them; that it was asked, and answered, stays.
            await session.exec(
                update(FeedbackItem)
                .where(col(FeedbackItem.person_id) == pid)
                .values(text=None, reported_text=None)
            )
            for model, column in _LINKS:
                attribute = getattr(model, column)
                await session.exec(update(model).where(attribute == pid).values({column: None}))
            await session.exec(delete(Role).where(col(Role.person_id) == pid))
            await session.exec(delete(Conversation).where(col(Conversation.person_id) == pid))
            for signed_in in (SignInLink, WebSession):  # their dashboard links and sessions end
                await session.exec(delete(signed_in).where(col(signed_in.person_id) == pid))
        await _anonymise_private_chat(session, platform, platform_user_id)
        await _scrub_waiting_updates(session, platform, platform_user_id)
        if person is not None:
            await session.delete(person)
        await session.commit()
    await db.scrub(_TOUCHED)
    return person is not None


async def _anonymise_private_chat(session: AsyncSession, platform: str, user_id: str) -> None:
    """A private chat's id is the person's id. Its row stays (deliveries point at it) under a
    name that means nothing outside loa."""
    query = select(Chat).where(
        Chat.platform == platform, Chat.type == ChatType.PRIVATE, Chat.platform_chat_id == user_id
    )
    for chat in (await session.exec(query)).all():
        chat.platform_chat_id, chat.title, chat.active = f"erased-{chat.id}", "", False
        session.add(chat)


async def _scrub_waiting_updates(session: AsyncSession, platform: str, user_id: str) -> None:
    """Handled updates keep no payload (bot.inbox); those still waiting that come from this
    person are emptied, and so dropped when their turn comes."""
    query = select(InboxUpdate).where(
        InboxUpdate.platform == platform, col(InboxUpdate.handled_at).is_(None)
    )
    marks = (f'"id": {user_id},', f'"id": {user_id}}}', f'"id": "{user_id}"')
    for row in (await session.exec(query)).all():
        raw = json.dumps(row.payload)
        if any(mark in raw for mark in marks):
            row.payload = {}
            session.add(row)
