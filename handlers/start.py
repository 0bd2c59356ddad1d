"""/start (welcome and privacy notice, or an invite code from a link), /help and /huongdan
(what this person's roles may do), and typed "trợ giúp"."""

from __future__ import annotations

from bot.dispatch import Context, Router
from bot.services import invites
from bot.services.people import find_person
from bot.services.permissions import roles_of
from handlers.invites import join


async def start(ctx: Context) -> None:
    user = ctx.event.user
    code = invites.normalize(ctx.args) if ctx.args else None
    if ctx.args and ctx.is_private and user is not None:
        await join(ctx, code or ctx.args)
        return
    ctx.reply("start", name=user.name if user else "")


async def help_(ctx: Context) -> None:
    async with ctx.db.read_session() as session:
        person = await find_person(session, ctx.event.platform, ctx.event.user)
        roles = {r.role for r in await roles_of(session, person.id if person else None)}
    ctx.reply("help", roles=roles)


async def unknown_command(ctx: Context) -> None:
    ctx.reply("unknown_command", command=ctx.event.command or "")


def router() -> Router:
    r = Router()
    r.command("start")(start)
    r.command("help", "huongdan")(help_)
    r.phrase("help", "trợ giúp", "hướng dẫn")(help_)
    r.unknown_command(unknown_command)
    return r
