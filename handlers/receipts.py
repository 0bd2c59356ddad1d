"""Receipts: a person received or saw our messages (Zalo OA's user_received_message and
user_seen_message). Each becomes one Feedback(kind="received" | "seen") per person and post,
so reach has `seen` (DESIGN "What counts as reach"); neither counts as engagement.
Adapters whose rules depend on when a person last wrote are told of every event first."""

from __future__ import annotations

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.dispatch import Context, Router
from bot.domain import EventKind, InboundEvent
from bot.services.people import upsert_person
from bot.storage.db import insert_ignoring_duplicates
from bot.storage.models import Chat, Delivery, DeliveryStatus, Feedback, table_of, utcnow

RECEIPTS = ("received", "seen")


async def note_contact(ctx: Context) -> None:
    await ctx.note_contact()


async def receipt(ctx: Context) -> None:
    event = ctx.event
    if event.user is None or event.receipt not in RECEIPTS or not event.message_ids:
        return
    found = select(Delivery.occurrence_id, Delivery.chat_id).where(
        Delivery.platform == event.platform.value,
        col(Delivery.platform_message_id).in_(event.message_ids),
    )
    async with ctx.db.session() as session:
        posts = (await session.exec(found)).all()
        if not posts:
            if await _sending_to(session, event):
                # Zalo's receipt can come before the sender records the send: the inbox
                # retries this update in a moment, by then the message id is known.
                raise NotRecordedYet("a receipt before its send was recorded")
            return  # a reply or a flag, not a post: nothing to count
        person_id = await upsert_person(session, ctx.db, event.platform, event.user)
        now = utcnow()
        rows = [
            {
                "occurrence_id": o,
                "chat_id": c,
                "person_id": person_id,
                "kind": event.receipt,
                "created_at": now,
            }
            for o, c in posts
        ]
        await session.exec(insert_ignoring_duplicates(ctx.db, table_of(Feedback)).values(rows))
        await session.commit()


class NotRecordedYet(Exception):
    pass


async def _sending_to(session: AsyncSession, event: InboundEvent) -> bool:
    """Whether a delivery to the chat of `event` is in flight (sent, result not recorded)."""
    query = (
        select(Delivery.id)
        .join(Chat, col(Chat.id) == Delivery.chat_id)
        .where(
            Chat.platform == event.platform.value,
            Chat.platform_chat_id == event.chat_id,
            Delivery.status == DeliveryStatus.IN_FLIGHT,
        )
        .limit(1)
    )
    return (await session.exec(query)).first() is not None


def router() -> Router:
    r = Router()
    r.first(note_contact)
    r.event(EventKind.RECEIPT)(receipt)
    return r
