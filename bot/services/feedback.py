"""Answers to posts (Đã hiểu, quiz, RSVP): a tap counts only where the post was delivered."""

from __future__ import annotations

from sqlalchemy import bindparam
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.domain import InboundEvent
from bot.storage.models import Chat, Delivery, DeliveryStatus, Occurrence

ARRIVED = (DeliveryStatus.SENT, DeliveryStatus.UNCERTAIN)  # a tap proves an uncertain one came


async def tapped_post(
    session: AsyncSession, event: InboundEvent, occurrence_id: int
) -> tuple[Occurrence, int] | None:
    """The post a tap answers and our id of the chat it was tapped in, if that post was
    delivered to that chat (on that very message, where both ids are known); else None, so a
    forged or stale button cannot count for another post, another chat or a missed one."""
    values = {"occurrence": occurrence_id, "platform": event.platform.value, "chat": event.chat_id}
    for occurrence, chat_id, message_id in (await session.exec(_TAPPED, params=values)).all():
        same_message = message_id is None or event.message_id in (None, message_id)
        if chat_id is not None and same_message:
            return occurrence, chat_id
    return None


_TAPPED = (  # built once: every tap runs it
    select(Occurrence, Chat.id, Delivery.platform_message_id)
    .join(Delivery, col(Delivery.occurrence_id) == Occurrence.id)
    .join(Chat, col(Chat.id) == Delivery.chat_id)
    .where(
        col(Occurrence.id) == bindparam("occurrence"),
        col(Chat.platform) == bindparam("platform"),
        col(Chat.platform_chat_id) == bindparam("chat"),
        col(Delivery.status).in_(ARRIVED),
    )
)
