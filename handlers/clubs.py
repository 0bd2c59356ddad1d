"""/dangky: a school's staff see who answered the club notices (RSVP) their groups received in
the last 30 days, option by option. The reminder a day before a session is the scheduler's
(bot/services/rsvp.remind)."""

from __future__ import annotations

from bot.dispatch import Context, Router
from bot.services import rsvp
from bot.services.permissions import Action


async def registrations(ctx: Context) -> None:
    async with ctx.db.session() as session:
        lines = await rsvp.counts(session, ctx.scope)
    ctx.reply("rsvp_counts", posts=lines)


def router() -> Router:
    r = Router()
    r.command("dangky", private=True, action=Action.LIST_UNITS)(registrations)
    return r
