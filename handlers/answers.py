"""Quiz and RSVP buttons (data "quiz:<occurrence>:<i>", "rsvp:<occurrence>:<i>"): one
Feedback per person and post, its value the option's index. A quiz counts the first answer and
tells right or wrong (a wrong first answer also gets the post's explanation in private, where
loa has a private chat with the person); an RSVP may be changed.

What the options mean is the occurrence's `meta` ({"answer": i, "options": [...]} for a quiz,
{"options": [...]} for an RSVP), so a tap is checked against the post it answers.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.dispatch import Context, Router
from bot.services.feedback import tapped_post
from bot.services.people import upsert_person
from bot.storage.db import insert_ignoring_duplicates
from bot.storage.models import Feedback, Occurrence, Person, utcnow

QUIZ = "quiz"
RSVP = "rsvp"


def _parse(args: str) -> tuple[int, int] | None:
    occurrence, _, index = args.partition(":")
    if not (occurrence.isdigit() and index.isdigit()):
        return None
    return int(occurrence), int(index)


def _options(occurrence: Occurrence | None, kind: str) -> list[str] | None:
    """The options of `occurrence` if it asks a question of this kind, else None."""
    if occurrence is None:
        return None
    meta: dict[str, Any] = occurrence.meta or {}
    options = meta.get("options")
    is_quiz = occurrence.kind == QUIZ and isinstance(meta.get("answer"), int)
    if not isinstance(options, list) or is_quiz != (kind == QUIZ):
        return None
    if kind == RSVP and "answer" in meta:
        return None
    return [str(o) for o in options]


async def _answered(
    ctx: Context, session: AsyncSession, kind: str
) -> tuple[Occurrence, int, list[str], dict[str, Any]] | None:
    """The post a tap answers, the option's index, the options and the Feedback row's values;
    None (and the person told) when the tap names no such question or option, or a post that
    was not delivered where it was tapped."""
    parsed = _parse(ctx.args)
    post = await tapped_post(session, ctx.event, parsed[0]) if parsed else None
    options = _options(post[0] if post else None, kind)
    user = ctx.event.user
    if user is None or parsed is None or post is None or options is None:
        ctx.answer_button("answer_unknown")
        return None
    if parsed[1] >= len(options):
        ctx.answer_button("answer_unknown")
        return None
    occurrence, chat_id = post
    values = {
        "occurrence_id": occurrence.id,
        "chat_id": chat_id,
        "person_id": await upsert_person(session, ctx.db, ctx.event.platform, user),
        "created_at": utcnow(),
    }
    return occurrence, parsed[1], options, values


async def quiz(ctx: Context) -> None:
    user = ctx.event.user
    async with ctx.db.session() as session:
        answered = await _answered(ctx, session, QUIZ)
        if answered is None or user is None:
            return
        occurrence, choice, options, values = answered
        stmt = (
            insert_ignoring_duplicates(ctx.db, Feedback)
            .values(**values, kind=QUIZ, value=str(choice))
            .returning(col(Feedback.id))
        )
        first = (await session.exec(stmt)).scalar_one_or_none() is not None
        await session.commit()
        person = await session.get(Person, values["person_id"])
    answer = int(occurrence.meta["answer"])
    right = options[answer]
    if not first:
        ctx.answer_button("quiz_again", right=right)
        return
    template = "quiz_right" if choice == answer else "quiz_wrong"
    ctx.answer_button(template, name=user.name, right=right)
    explanation = occurrence.meta.get("explanation")
    # Only someone who has opened a private chat with loa can be written to there.
    if choice != answer and explanation and person is not None and person.notice_at is not None:
        ctx.send_to(
            person.platform_user_id,
            "quiz_explanation",
            question=str(occurrence.meta.get("question", "")),
            right=right,
            explanation=str(explanation),
        )


async def rsvp(ctx: Context) -> None:
    user = ctx.event.user
    async with ctx.db.session() as session:
        answered = await _answered(ctx, session, RSVP)
        if answered is None or user is None:
            return
        occurrence, choice, options, values = answered
        before = (
            await session.exec(
                select(Feedback.value).where(
                    Feedback.occurrence_id == occurrence.id,
                    Feedback.person_id == values["person_id"],
                    Feedback.kind == RSVP,
                )
            )
        ).first()
        # One statement: two taps at once cannot make two answers of one person.
        insert = (sqlite.insert if ctx.db.is_sqlite else postgresql.insert)(Feedback).values(
            **values, kind=RSVP, value=str(choice)
        )
        await session.exec(
            insert.on_conflict_do_update(
                index_elements=["occurrence_id", "person_id", "kind"],
                set_={"value": insert.excluded.value},
            )
        )
        await session.commit()
    changed = before is not None and before != str(choice)
    ctx.answer_button("rsvp_thanks", name=user.name, option=options[choice], changed=changed)


def router() -> Router:
    r = Router()
    r.button(QUIZ)(quiz)
    r.button(RSVP)(rsvp)
    return r
