"""A message the platform handed over without its content (Zalo: a minor's or another
protected sender's): say kindly what loa can and cannot read. It is never counted as text."""

from __future__ import annotations

from bot.dispatch import Context, Router
from bot.domain import EventKind


async def unreadable(ctx: Context) -> None:
    if ctx.event.chat_id is not None:
        ctx.reply("unsupported_message")


def router() -> Router:
    r = Router()
    r.event(EventKind.UNSUPPORTED)(unreadable)
    return r
