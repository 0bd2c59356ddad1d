"""Misinformation reports («báo tin sai»): flagged to the officials over the chat's unit at
once; an official's clarification goes to the affected chat as a post of its own, with «Đã
hiểu», so it is delivered, acknowledged and counted in reach like any post.

Reports live in feedback_items (kind "misinformation") beside questions, for the classifier.
"""

from __future__ import annotations

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.domain import Button
from bot.services import labels
from bot.services.broadcasts import Broadcast, enqueue
from bot.services.people import private_chat
from bot.services.permissions import OFFICIAL
from bot.services.questions import MAX_TEXT, close, destination, officials_over
from bot.storage.db import Database
from bot.storage.models import (
    Chat,
    FeedbackItem,
    ItemKind,
    ItemStatus,
    Person,
    Role,
    utcnow,
)
from content.templates import Templates

PREFIX = "mi"  # "mi:<id>:c" (write a clarification), "mi:<id>:h" (mark handled)


async def report(
    session: AsyncSession,
    *,
    person_id: int,
    text: str,
    reported_text: str | None,
    chat: Chat | None,
    unit_id: int | None,
    message_id: str | None,
) -> FeedbackItem:
    """Record a report; commits."""
    item = FeedbackItem(
        kind=ItemKind.MISINFORMATION,
        person_id=person_id,
        chat_id=None if chat is None else chat.id,
        message_id=message_id,
        unit_id=unit_id,
        text=text[:MAX_TEXT] or None,
        reported_text=None if reported_text is None else reported_text[:MAX_TEXT],
    )
    session.add(await labels.stamp(item))
    await session.commit()
    return item


async def officials_for(
    session: AsyncSession, unit_id: int | None, platform: str | None = None
) -> list[Person]:
    """Who is flagged: the officials over the unit; every official when loa cannot tell the
    unit (a private report from someone it does not place). Each on their own platform; only
    those on `platform` when it is given."""
    if unit_id is not None:
        found = await officials_over(session, unit_id, platform)
        if found:
            return found
    query = (
        select(Person)
        .join(Role, col(Role.person_id) == Person.id)
        .where(Role.role == OFFICIAL, *([] if platform is None else [Person.platform == platform]))
        .distinct()
    )
    return sorted((await session.exec(query)).all(), key=lambda p: p.id or 0)


def buttons(templates: Templates, item_id: int) -> tuple[Button, ...]:
    return tuple(
        Button(templates.render_plain("misinfo_button", op=op), f"{PREFIX}:{item_id}:{op}")
        for op in ("c", "h")
    )


async def clarify(
    db: Database,
    templates: Templates,
    item_id: int,
    official_id: int,
    text: str,
    units: frozenset[int],
) -> tuple[FeedbackItem, int] | None:
    """Close the report with `text` and enqueue it as a clarification post to the affected
    chat (the group it was reported in, else the reporter's private chat). Returns the report
    and the occurrence; None if it is closed already or not the official's to answer."""
    async with db.session() as session:
        item = await session.get(FeedbackItem, item_id)
        if item is None or item.kind != ItemKind.MISINFORMATION:
            return None
        if item.unit_id is not None and item.unit_id not in units:
            return None
        to = await destination(session, item)
        chat_id = None if to is None else await _chat_row(session, item, to.chat_id)
        closed = await close(
            session, item_id, official_id, text, None, ItemStatus.ANSWERED,
            ItemKind.MISINFORMATION,
        )  # fmt: skip
    if closed is None or chat_id is None:
        return None if closed is None else (closed, 0)
    ack = templates.render_plain("announce_button", kind="ack", value="", on=False)
    post = Broadcast(
        key=f"misinformation:{item_id}",
        title=f"Đính chính tin sai số {item_id}",
        text=templates.render("misinfo_clarification", text=text, item=closed),
        buttons=(Button(ack, "ack:{occurrence}"),),
        due_at=utcnow(),
        urgent=True,
        kind="clarification",
        source=f"misinformation:{item_id}",
    )
    occurrence = await enqueue(db, post, [chat_id])
    async with db.session() as session:
        row = await session.get(FeedbackItem, item_id)
        assert row is not None
        row.occurrence_id = occurrence
        session.add(row)
        await session.commit()
    return closed, occurrence


async def _chat_row(session: AsyncSession, item: FeedbackItem, platform_chat_id: str) -> int | None:
    chat = None if item.chat_id is None else await session.get(Chat, item.chat_id)
    if chat is not None and chat.platform_chat_id == platform_chat_id:
        return chat.id
    asker = None if item.person_id is None else await session.get(Person, item.person_id)
    if asker is None:
        return None
    chat_id = await private_chat(session, asker)
    await session.commit()
    return chat_id


async def handle(
    session: AsyncSession, item_id: int, official_id: int, reason: str, units: frozenset[int]
) -> FeedbackItem | None:
    """Mark a report «đã xử lý» with a reason, without a clarification."""
    item = await session.get(FeedbackItem, item_id)
    if item is None or item.kind != ItemKind.MISINFORMATION:
        return None
    if item.unit_id is not None and item.unit_id not in units:
        return None
    return await close(
        session, item_id, official_id, reason, None, ItemStatus.HANDLED, ItemKind.MISINFORMATION
    )
