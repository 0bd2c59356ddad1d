"""The "Đã hiểu" button (data "ack:<occurrence id>"): one Feedback(kind="ack") per person and post;
a second tap is thanked again but not counted again. A tap counts only on a delivered post."""

from __future__ import annotations

import functools
from typing import Any

from sqlalchemy import bindparam

from bot.dispatch import Context, Router
from bot.services.feedback import tapped_chat
from bot.services.people import upsert_person
from bot.storage.db import insert_for_dialect
from bot.storage.models import Feedback, table_of, utcnow

PREFIX = "ack"
KIND = "ack"


async def acknowledge(ctx: Context) -> None:
    user = ctx.event.user
    if user is None or not ctx.args.isdigit():
        ctx.answer_button("ack_unknown")
        return
    async with ctx.db.session() as session:
        occurrence_id = int(ctx.args)
        chat_id = await tapped_chat(session, ctx.event, occurrence_id)
        if chat_id is None:
            ctx.answer_button("ack_unknown")
            return
        person_id = await upsert_person(session, ctx.db, ctx.event.platform, user)
        values = {"occurrence": occurrence_id, "chat": chat_id, "person": person_id, "at": utcnow()}
        tap = await session.exec(_count_tap(ctx.db.is_sqlite), params=values)
        first = tap.scalar_one_or_none() is not None
        await session.commit()
    ctx.answer_button("ack_thanks" if first else "ack_again", name=user.name)


@functools.cache
def _count_tap(is_sqlite: bool) -> Any:
    """The statement of every tap, built once (building it cost more CPU than running it)."""
    table = table_of(Feedback)
    return (
        insert_for_dialect(is_sqlite, table)
        .values(
            occurrence_id=bindparam("occurrence", type_=table.c.occurrence_id.type),
            chat_id=bindparam("chat", type_=table.c.chat_id.type),
            person_id=bindparam("person", type_=table.c.person_id.type),
            kind=KIND,
            created_at=bindparam("at", type_=table.c.created_at.type),
        )
        .on_conflict_do_nothing()
        .returning(table.c.id)
    )


def router() -> Router:
    r = Router()
    r.button(PREFIX)(acknowledge)
    return r
