"""«Báo tin sai»: /baotinsai (with the text, or as a reply to the message), or a reply to any
message starting with "báo tin sai" (diacritics and case ignored). The officials over the
chat's unit get it at once with «Gửi đính chính» and «Đã xử lý»; the clarification an
official types next goes to the affected chat as a post with «Đã hiểu» (counted in reach).

Button data: "mi:<id>:c" (clarify), "mi:<id>:h" (mark handled, with a reason typed next).
In a group, loa sees replies to other people's messages only where Telegram lets it (privacy
mode off, or loa an admin); a reply to loa's own post always reaches it.
"""

from __future__ import annotations

from bot.dispatch import Context, Router
from bot.domain import ChatType
from bot.services import labels, questions, trends
from bot.services import misinformation as service
from bot.services.people import upsert_person
from bot.services.permissions import Action
from bot.storage.models import ItemKind, utcnow
from bot.text import fold_phrase
from handlers import conversation
from handlers import questions as questions_flow

PHRASE = "bao tin sai"  # folded
FLOW = "misinfo_report"  # a private /baotinsai without text: the text comes next
CLARIFY_FLOW = "misinfo_clarify"
HANDLE_FLOW = "misinfo_handled"


def is_report(text: str | None) -> bool:
    """Whether a message starts with «báo tin sai» (any case, with or without diacritics)."""
    return fold_phrase(text or "").startswith(PHRASE)


def _rest(text: str | None) -> str:
    """What follows the phrase: the reporter's own words."""
    words = (text or "").split()
    return " ".join(words[3:]) if len(words) >= 3 else ""


async def command(ctx: Context) -> None:
    await _report(ctx, questions.cleaned(ctx.args))


async def phrase_reply(ctx: Context) -> None:
    """A group message starting with the phrase (routed here by handlers/typed.py)."""
    await _report(ctx, questions.cleaned(_rest(questions_flow.without_mention(ctx))))


async def _report(ctx: Context, words: str) -> None:
    event, user = ctx.event, ctx.event.user
    if user is None or user.is_bot:
        return
    reported = questions.cleaned(event.reply_to_text) or None
    if len(words) > questions.MAX_TEXT:
        ctx.reply("misinfo_refused", reason="length", max=questions.MAX_TEXT)
        return
    if not words and reported is None:
        if ctx.is_private:
            async with ctx.db.session() as session:
                person_id = await upsert_person(session, ctx.db, event.platform, user)
                await conversation.begin(session, person_id, FLOW)
            ctx.reply("misinfo_ask", step="text")
        else:
            ctx.reply("misinfo_refused", reason="empty")
        return
    async with ctx.db.session() as session:
        person_id = await upsert_person(session, ctx.db, event.platform, user)
        chat = await questions.unit_of_chat(session, event.platform, event.chat_id or "")
        in_group = event.chat_type is ChatType.GROUP and chat is not None
        unit_id = (
            chat.unit_id if in_group and chat else await questions.home_of(session, person_id, chat)
        )
        item = await service.report(
            session, person_id=person_id, text=words, reported_text=reported,
            chat=chat if in_group else None, unit_id=unit_id, message_id=event.message_id,
        )  # fmt: skip
        officials = await service.officials_for(session, unit_id)
    assert item.id is not None
    for official in officials:
        ctx.send_to(
            official.platform_user_id,
            "misinfo_new",
            platform=official.platform,
            buttons=service.buttons(ctx.templates, item.id),
            item=item,
            reporter=user.name,
            where=chat.title if in_group and chat else "",
        )
    ctx.reply("misinfo_sent", told=len(officials))
    # A burst of reports on one topic is told at once, not at the next 10-minute watch.
    await trends.alert_bursts(ctx.db, ctx.templates, labels.source(ctx.db), utcnow())


async def tapped(ctx: Context) -> None:
    flows = {"c": CLARIFY_FLOW, "h": HANDLE_FLOW}
    await questions_flow.take(
        ctx, ItemKind.MISINFORMATION, Action.HANDLE_MISINFORMATION, flows, "misinfo"
    )


async def on_text(ctx: Context) -> bool:
    """The report's text, a clarification or a reason being typed; False if none expected."""
    return (
        await _report_text(ctx)
        or await _official_text(ctx, CLARIFY_FLOW)
        or await _official_text(ctx, HANDLE_FLOW)
    )


async def _report_text(ctx: Context) -> bool:
    state = await conversation.step(ctx, FLOW)
    if state is None:
        return False
    text = questions.cleaned(ctx.event.text)
    if not questions.MIN_TEXT <= len(text) <= questions.MAX_TEXT:
        async with ctx.db.session() as session:
            await conversation.begin(session, ctx.person_id, FLOW)
        ctx.reply("misinfo_refused", reason="length", max=questions.MAX_TEXT)
        return True
    await _report(ctx, text)
    return True


async def _official_text(ctx: Context, flow: str) -> bool:
    got = await questions_flow.typed(ctx, flow, Action.HANDLE_MISINFORMATION, "misinfo_refused")
    if got is None:
        return False
    text, item_id = got
    if not text:
        return True
    if flow == HANDLE_FLOW:
        async with ctx.db.session() as session:
            item = await service.handle(session, item_id, ctx.person_id, text, ctx.scope)
        outcome = "handled"
    else:
        done = await service.clarify(ctx.db, ctx.templates, item_id, ctx.person_id, text, ctx.scope)
        item, outcome = (None, "") if done is None else (done[0], "clarified")
        if done is not None and done[1] == 0:
            outcome = "undeliverable"
    if item is None:
        ctx.reply("misinfo_refused", reason="closed")
    else:
        ctx.reply("misinfo_closed", outcome=outcome, item=item)
    return True


def router() -> Router:
    r = Router()
    r.command("baotinsai")(command)
    r.button(service.PREFIX, private=True, person=True, refusal="misinfo_refused")(tapped)
    return r
