"""The "Đã hiểu" button (data "ack:<occurrence id>"): one Feedback(kind="ack") per person and post;
a second tap is thanked again but not counted again. A tap counts only on a delivered post."""

from __future__ import annotations

from sqlmodel import col

from bot.dispatch import Context, Router
from bot.services.feedback import tapped_post
from bot.services.people import upsert_person
from bot.storage.db import insert_ignoring_duplicates
from bot.storage.models import Feedback, utcnow

PREFIX = "ack"
KIND = "ack"


async def acknowledge(ctx: Context) -> None:
    user = ctx.event.user
    if user is None or not ctx.args.isdigit():
        ctx.answer_button("ack_unknown")
        return
    async with ctx.db.session() as session:
        post = await tapped_post(session, ctx.event, int(ctx.args))
        if post is None:
            ctx.answer_button("ack_unknown")
            return
        occurrence, chat_id = post
        person_id = await upsert_person(session, ctx.db, ctx.event.platform, user)
        stmt = (
            insert_ignoring_duplicates(ctx.db, Feedback)
            .values(
                occurrence_id=occurrence.id,
                chat_id=chat_id,
                person_id=person_id,
                kind=KIND,
                created_at=utcnow(),
            )
            .returning(col(Feedback.id))
        )
        first = (await session.exec(stmt)).scalar_one_or_none() is not None
        await session.commit()
    ctx.answer_button("ack_thanks" if first else "ack_again", name=user.name)


def router() -> Router:
    r = Router()
    r.button(PREFIX)(acknowledge)
    return r
