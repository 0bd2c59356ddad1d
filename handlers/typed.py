"""Free text in a private chat: the next step of a flow the person is in (an announcement
being composed, a task result's details, an activity report, a model), else an invite code,
else a pointer to the guide. In groups, what people write to each other is not for loa."""

from __future__ import annotations

from bot.dispatch import Context, Router
from bot.domain import EventKind
from bot.services import invites as invite_codes
from handlers import activities, announcements, conversation, invites, models, tasks


async def typed_text(ctx: Context) -> None:
    if not ctx.is_private or ctx.event.user is None:
        return
    for flow in (announcements, tasks, activities, models):
        if await flow.on_text(ctx):
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
