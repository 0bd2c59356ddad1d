"""Questions and suggestions: a parent writes in private, or in a group as a reply to one of
loa's posts or naming loa; the school's staff get it in private with «Trả lời» and «Đã xử
lý»; the answer they type next goes back to the asker (in private, or as a reply in the
group). Overdue ones are reminded by the scheduler (bot/services/questions.escalate).

Button data: "q:<id>:a" (answer), "q:<id>:h" (mark handled, with a reason typed next).
"""

from __future__ import annotations

import re

from bot.dispatch import Context, Router
from bot.services import questions as service
from bot.services.people import upsert_person
from bot.services.permissions import Action
from bot.storage.models import FeedbackItem, ItemKind, ItemStatus, Unit
from handlers import conversation

ANSWER_FLOW = "question_answer"
HANDLE_FLOW = "question_handled"


async def ask_in_private(ctx: Context) -> None:
    """Free text in private that is no flow's step and no invite code: a question."""
    user = ctx.event.user
    assert user is not None
    text = service.cleaned(ctx.event.text)
    if not service.MIN_TEXT <= len(text) <= service.MAX_TEXT:
        ctx.reply("question_refused", reason="length", max=service.MAX_TEXT)
        return
    async with ctx.db.session() as session:
        person_id = await upsert_person(session, ctx.db, ctx.event.platform, user)
        chat = await service.unit_of_chat(session, ctx.event.platform, ctx.event.chat_id or "")
        unit_id = await service.home_of(session, person_id, chat)
        if unit_id is None:
            staff = await service.is_staff(session, person_id)
            await session.commit()
            if staff:
                ctx.reply("unknown_text")
            else:
                ctx.reply("question_refused", reason="no_unit")
            return
        item = await service.ask(
            session, person_id=person_id, unit_id=unit_id, text=text,
            chat_id=None if chat is None else chat.id,
            message_id=ctx.event.message_id,
        )  # fmt: skip
        await _tell_staff(ctx, item, where="")


async def ask_in_group(ctx: Context) -> None:
    """A reply to loa's post, or a message naming loa, in a group bound to a unit."""
    user = ctx.event.user
    if user is None or user.is_bot:
        return
    text = service.cleaned(without_mention(ctx))
    async with ctx.db.session() as session:
        chat = await service.unit_of_chat(session, ctx.event.platform, ctx.event.chat_id or "")
        if chat is None or chat.unit_id is None:
            ctx.reply("question_refused", reason="unbound")
            return
        if not service.MIN_TEXT <= len(text) <= service.MAX_TEXT:
            ctx.reply("question_refused", reason="length", max=service.MAX_TEXT)
            return
        person_id = await upsert_person(session, ctx.db, ctx.event.platform, user)
        item = await service.ask(
            session, person_id=person_id, unit_id=chat.unit_id, text=text, chat_id=chat.id,
            message_id=ctx.event.message_id,
        )  # fmt: skip
        await _tell_staff(ctx, item, where=chat.title)


# A bot's @username ends in "bot" (Telegram's rule; Zalo has no mentions of bots).
_BOT_NAME = re.compile(r"@\w*bot\b", re.IGNORECASE)


def without_mention(ctx: Context) -> str:
    """The text less loa's @name, so "@loa_bot con hỏi…" keeps only the question."""
    text = ctx.event.text or ""
    return _BOT_NAME.sub(" ", text) if ctx.event.mentions_bot else text


async def _tell_staff(ctx: Context, item: FeedbackItem, where: str) -> None:
    assert item.id is not None and item.unit_id is not None
    async with ctx.db.session() as session:
        staff = await service.answerers(session, item.unit_id)
        unit = await session.get(Unit, item.unit_id)
    asker = ctx.event.user.name if ctx.event.user else ""
    for person in staff:
        ctx.send_to(
            person.platform_user_id,
            "question_new",
            platform=person.platform,
            buttons=service.buttons(ctx.templates, item.id),
            item=item,
            asker=asker,
            where=where,
            unit=unit.name if unit else "",
        )
    ctx.reply("question_sent", unit=unit.name if unit else "", told=len(staff))


async def take(
    ctx: Context, kind: ItemKind, action: Action, flows: dict[str, str], prefix: str
) -> None:
    """A tap on «Trả lời»/«Đã xử lý» (or «Gửi đính chính») under an open item of the tapper's
    units: the flow for what they type next begins. `prefix` names the templates
    (<prefix>_refused, <prefix>_ask)."""
    refusal = f"{prefix}_refused"
    number, _, op = ctx.args.partition(":")
    if not await ctx.authorize(action):
        ctx.answer_button(refusal, reason="forbidden")
        return
    async with ctx.db.session() as session:
        item = await session.get(FeedbackItem, int(number)) if number.isdigit() else None
        if item is None or item.kind != kind or op not in flows:
            ctx.answer_button(refusal, reason="stale")
            return
        if item.unit_id is not None and item.unit_id not in ctx.scope:
            ctx.answer_button(refusal, reason="forbidden")
            return
        if item.status != ItemStatus.OPEN:
            ctx.answer_button(refusal, reason="closed")
            return
        await conversation.begin(session, ctx.person_id, flows[op], item=item.id)
    ctx.answer_button()
    ctx.reply(f"{prefix}_ask", step=flows[op], item=item)


async def typed(ctx: Context, flow: str, action: Action, refusal: str) -> tuple[str, int] | None:
    """The text typed in `flow` and the item it is for; None when the person is not in it.
    Text of the wrong length is refused and asked again: then the text is ""."""
    state = await conversation.step(ctx, flow, action)
    if state is None:
        return None
    text = service.cleaned(ctx.event.text)
    if not service.MIN_TEXT <= len(text) <= service.MAX_TEXT:
        async with ctx.db.session() as session:
            await conversation.begin(session, ctx.person_id, flow, **state)
        ctx.reply(refusal, reason="length", max=service.MAX_TEXT)
        return "", 0
    return text, int(state.get("item", -1))


async def tapped(ctx: Context) -> None:
    flows = {"a": ANSWER_FLOW, "h": HANDLE_FLOW}
    await take(ctx, ItemKind.QUESTION, Action.ANSWER_QUESTION, flows, "question")


async def on_text(ctx: Context) -> bool:
    """The answer or the reason being typed after a tap; False if none is expected."""
    return await _typed(ctx, ANSWER_FLOW) or await _typed(ctx, HANDLE_FLOW)


async def _typed(ctx: Context, flow: str) -> bool:
    got = await typed(ctx, flow, Action.ANSWER_QUESTION, "question_refused")
    if got is None:
        return False
    text, item_id = got
    if not text:
        return True
    async with ctx.db.session() as session:
        close = service.answer if flow == ANSWER_FLOW else service.mark_handled
        item = await close(session, item_id, ctx.person_id, text, ctx.scope)
        if item is None:
            ctx.reply("question_refused", reason="closed")
            return True
        if flow == HANDLE_FLOW:
            ctx.reply("question_closed", outcome="handled", item=item)
            return True
        to = await service.destination(session, item)
    if to is None:
        ctx.reply("question_closed", outcome="undeliverable", item=item)
        return True
    ctx.send_to(
        to.chat_id,
        "question_answer",
        platform=to.platform,
        reply_to=to.reply_to,
        item=item,
        staff=ctx.person.display_name if ctx.person else "",
        in_group=to.reply_to is not None,
    )
    ctx.reply("question_closed", outcome="answered", item=item)
    return True


def router() -> Router:
    r = Router()
    r.button(service.PREFIX, private=True, person=True, refusal="question_refused")(tapped)
    return r
