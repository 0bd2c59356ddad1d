"""Answers to posts (Đã hiểu, quiz, RSVP): a tap counts only where the post was delivered."""

from __future__ import annotations

from sqlalchemy import bindparam
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.domain import InboundEvent
from bot.storage.models import Chat, Delivery, DeliveryStatus, Occurrence, table_of

ARRIVED = (DeliveryStatus.SENT, DeliveryStatus.UNCERTAIN)  # a tap proves an uncertain one came


async def tapped_chat(session: AsyncSession, event: InboundEvent, occurrence_id: int) -> int | None:
    """Our id of the chat a tap on the post `occurrence_id` came from, if that post was
    delivered to that chat (on that very message, where both ids are known); else None, so a
    forged or stale button cannot count for another post, another chat or a missed one."""
    values = {"occurrence": occurrence_id, "platform": event.platform.value, "chat": event.chat_id}
    for chat_id, message_id in (await session.exec(_TAPPED, params=values)).all():
        if message_id is None or event.message_id in (None, message_id):
            return int(chat_id)
    return None


async def tapped_post(
    session: AsyncSession, event: InboundEvent, occurrence_id: int
) -> tuple[Occurrence, int] | None:
    """`tapped_chat`, with the post itself (its options, for a quiz or an RSVP)."""
    chat_id = await tapped_chat(session, event, occurrence_id)
    occurrence = None if chat_id is None else await session.get(Occurrence, occurrence_id)
    return None if occurrence is None or chat_id is None else (occurrence, chat_id)


# Built once, on the tables (a Core query: every tap runs it, and loading the post as a model
# cost as much again as the query).
_DELIVERIES, _CHATS = table_of(Delivery), table_of(Chat)
_TAPPED = (
    select(_CHATS.c.id, _DELIVERIES.c.platform_message_id)
    .select_from(_DELIVERIES.join(_CHATS, _CHATS.c.id == _DELIVERIES.c.chat_id))
    .where(
        _DELIVERIES.c.occurrence_id == bindparam("occurrence"),
        _CHATS.c.platform == bindparam("platform"),
        _CHATS.c.platform_chat_id == bindparam("chat"),
        _DELIVERIES.c.status.in_([s.value for s in ARRIVED]),
    )
)
