"""Free text in a private chat: the next step of a flow the person is in (an announcement
being composed, a task result's details, an activity report, a model), else an invite code,
else a pointer to the guide. In groups, what people write to each other is not for loa."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from bot.dispatch import Context, Router
from bot.domain import EventKind
from bot.services import invites as invite_codes
from handlers import activities, announcements, conversation, invites, models, tasks

# Each flow's next typed step, by the flow's name in the Conversation row.
STEPS: dict[str, Callable[[Context], Awaitable[bool]]] = {
    announcements.FLOW: announcements.on_text,
    tasks.FLOW: tasks.on_text,
    activities.FLOW: activities.on_text,
    models.FLOW: models.on_text,
    models.REASON_FLOW: models.on_text,
}


async def typed_text(ctx: Context) -> None:
    if not ctx.is_private or ctx.event.user is None:
        return
    flow = await conversation.flow_of(ctx)
    step = STEPS.get(flow) if flow is not None else None
    if step is not None and await step(ctx):
        return
    code = invite_codes.normalize(ctx.event.text or "")
    if code is not None:
        await invites.join(ctx, code)
    else:
        ctx.reply("unknown_text")


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
