"""Free text (and files). A photo or document in private is evidence for /baocao or /mohinh
(handlers/evidence.py). Text in a private chat: the next step of a flow the person is in (an
announcement being composed, a task result's details, an activity report, a model, an answer to a
question), else a misinformation report («báo tin sai…»), else an invite code, else a question
to the person's school. In a group, only what is addressed to loa — a reply to loa's post or a
message naming it — is a question (or a report, when it starts with «báo tin sai»); what
people write to each other is not for loa."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from bot.dispatch import Context, Router
from bot.domain import EventKind
from bot.services import invites as invite_codes
from handlers import (
    activities,
    announcements,
    conversation,
    evidence,
    invites,
    misinformation,
    models,
    questions,
    tasks,
)

# Each flow's next typed step, by the flow's name in the Conversation row.
STEPS: dict[str, Callable[[Context], Awaitable[bool]]] = {
    announcements.FLOW: announcements.on_text,
    tasks.FLOW: tasks.on_text,
    activities.FLOW: activities.on_text,
    models.FLOW: models.on_text,
    models.REASON_FLOW: models.on_text,
    questions.ANSWER_FLOW: questions.on_text,
    questions.HANDLE_FLOW: questions.on_text,
    misinformation.FLOW: misinformation.on_text,
    misinformation.CLARIFY_FLOW: misinformation.on_text,
    misinformation.HANDLE_FLOW: misinformation.on_text,
}


async def typed_text(ctx: Context) -> None:
    if ctx.event.user is None:
        return
    if not ctx.is_private:
        await _in_group(ctx)
        return
    if ctx.event.file is not None:
        await evidence.on_file(ctx)
        return
    flow = await conversation.flow_of(ctx)
    step = STEPS.get(flow) if flow is not None else None
    if step is not None and await step(ctx):
        return
    if misinformation.is_report(ctx.event.text):
        await misinformation.phrase_reply(ctx)
        return
    code = invite_codes.normalize(ctx.event.text or "")
    if code is not None:
        await invites.join(ctx, code)
    else:
        await questions.ask_in_private(ctx)


async def _in_group(ctx: Context) -> None:
    event = ctx.event
    if event.file is not None and not (event.text or "").strip():
        return  # a photo replying to loa's post is not a question
    if misinformation.is_report(questions.without_mention(ctx)) and (
        event.reply_to_message_id is not None or event.reply_to_bot or event.mentions_bot
    ):
        await misinformation.phrase_reply(ctx)
    elif event.reply_to_bot or event.mentions_bot:
        await questions.ask_in_group(ctx)


async def cancel(ctx: Context) -> None:
    """/huy: leave the flow in progress (an announcement's text or time, a task's details)."""
    ended = False
    if await ctx.authorize():
        async with ctx.db.session() as session:
            ended = await conversation.end(session, ctx.person_id)
    ctx.reply("flow_cancelled", ended=ended)


def router() -> Router:
    r = Router()
    r.command("huy", private=True)(cancel)
    r.event(EventKind.MESSAGE)(typed_text)
    return r
