"""/start (welcome and privacy notice), /help and /huongdan, and typed "trợ giúp"."""

from __future__ import annotations

from handlers.router import Context, Router


async def start(ctx: Context) -> None:
    user = ctx.event.user
    await ctx.reply("start", name=user.name if user else "")


async def help_(ctx: Context) -> None:
    await ctx.reply("help")


async def unknown_command(ctx: Context) -> None:
    await ctx.reply("unknown_command", command=ctx.event.command or "")


def router() -> Router:
    r = Router()
    r.command("start")(start)
    r.command("help", "huongdan")(help_)
    r.phrase("help", "trợ giúp", "hướng dẫn")(help_)
    r.unknown_command(unknown_command)
    return r
