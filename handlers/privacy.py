"""Privacy (Decree 13/2023/NĐ-CP): the notice on a first private contact, /toi (what loa keeps
about me) and /xoadulieu (erase it, after a confirmation)."""

from __future__ import annotations

from bot.domain import Button, EventKind
from bot.services import privacy
from bot.storage.models import utcnow
from handlers.people import find_person, upsert_person
from handlers.router import Context, Router

PREFIX = "erase"


async def first_contact(ctx: Context) -> None:
    """Meet whoever writes in private, and show the notice the first time (/start shows its
    own, longer one)."""
    event, user = ctx.event, ctx.event.user
    if not ctx.is_private or event.kind is not EventKind.MESSAGE or user is None or user.is_bot:
        return
    async with ctx.db.session() as session:
        await upsert_person(session, ctx.db, event.platform, user)
        person = await find_person(session, event.platform, user)
        assert person is not None
        if person.notice_at is not None:
            await session.commit()
            return
        person.notice_at = utcnow()
        session.add(person)
        await session.commit()
    if event.command not in ("start", "xoadulieu"):
        await ctx.reply("privacy_notice")


async def me(ctx: Context) -> None:
    if not ctx.is_private:
        await ctx.reply("private_only", command="toi")
        return
    async with ctx.db.session() as session:
        person = await find_person(session, ctx.event.platform, ctx.event.user)
        kept = None if person is None else await privacy.kept_about(session, person)
    await ctx.reply("me", kept=kept)


async def ask_to_erase(ctx: Context) -> None:
    if not ctx.is_private:
        await ctx.reply("private_only", command="xoadulieu")
        return
    yes = ctx.templates.render_plain("erase_button", choice="yes")
    no = ctx.templates.render_plain("erase_button", choice="no")
    await ctx.reply(
        "erase_confirm", buttons=(Button(yes, f"{PREFIX}:yes"), Button(no, f"{PREFIX}:no"))
    )


async def erase(ctx: Context) -> None:
    event, user = ctx.event, ctx.event.user
    if user is None or event.chat_type is None or not ctx.is_private:
        await ctx.answer_button()
        return
    if ctx.args != "yes":
        await ctx.answer_button()
        await ctx.edit("erase_result", outcome="cancelled")
        return
    erased = await privacy.erase(ctx.db, event.platform.value, user.id)
    await ctx.answer_button()
    await ctx.edit("erase_result", outcome="done" if erased else "nothing")


def router() -> Router:
    r = Router()
    r.first(first_contact)
    r.command("toi")(me)
    r.command("xoadulieu")(ask_to_erase)
    r.button(PREFIX)(erase)
    return r
