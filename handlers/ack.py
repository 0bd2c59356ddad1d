"""The "Đã hiểu" button (data "ack:<occurrence id>"): one Feedback(kind="ack") per person and post;
a second tap is thanked again but not counted again."""

from __future__ import annotations

from sqlmodel import col

from bot.storage.db import insert_ignoring_duplicates
from bot.storage.models import Feedback, Occurrence, utcnow
from handlers.people import chat_pk, upsert_person
from handlers.router import Context, Router

PREFIX = "ack"
KIND = "ack"


async def acknowledge(ctx: Context) -> None:
    event, user = ctx.event, ctx.event.user
    if user is None or not ctx.args.isdigit():
        await ctx.answer_button("ack_unknown")
        return
    async with ctx.db.session() as session:
        if await session.get(Occurrence, int(ctx.args)) is None:
            await ctx.answer_button("ack_unknown")
            return
        person_id = await upsert_person(session, ctx.db, event.platform, user)
        stmt = (
            insert_ignoring_duplicates(ctx.db, Feedback)
            .values(
                occurrence_id=int(ctx.args),
                chat_id=await chat_pk(session, event.platform, event.chat_id),
                person_id=person_id,
                kind=KIND,
                created_at=utcnow(),
            )
            .returning(col(Feedback.id))
        )
        first = (await session.exec(stmt)).scalar_one_or_none() is not None
        await session.commit()
    await ctx.answer_button("ack_thanks" if first else "ack_again", name=user.name)


def router() -> Router:
    r = Router()
    r.button(PREFIX)(acknowledge)
    return r
