"""Privacy (Decree 13/2023/NĐ-CP): the notice on a first private contact, /toi (what loa keeps
about me) and /xoadulieu (erase it, after a confirmation)."""

from __future__ import annotations

from sqlalchemy import bindparam

from bot.dispatch import Context, Router
from bot.domain import Button, EventKind
from bot.services import privacy
from bot.services.people import find_person, upsert_person
from bot.storage.models import Person, table_of, utcnow

PREFIX = "erase"


async def first_contact(ctx: Context) -> None:
    """Meet whoever writes in private, and show the notice the first time (a bare /start shows
    its own, longer one)."""
    event, user = ctx.event, ctx.event.user
    if not ctx.is_private or event.kind is not EventKind.MESSAGE or user is None or user.is_bot:
        return
    name = user.name[:255]
    async with ctx.db.read_session() as reading:
        person = await find_person(reading, event.platform, user)
    if person is not None and person.notice_at is not None and person.display_name == name:
        return  # met before, shown the notice, same name: nothing to write (most messages)
    async with ctx.db.session() as session:
        person_id = await upsert_person(session, ctx.db, event.platform, user)
        shown = await session.exec(_SHOW_NOTICE, params={"person": person_id, "at": utcnow()})
        await session.commit()
    if shown.rowcount and not (event.command == "start" and not event.args):
        ctx.reply("privacy_notice")


# Marks the notice shown, if it was not (built once, on the table: every first message runs
# it; see bot/services/people.py).
_PEOPLE = table_of(Person)
_SHOW_NOTICE = (
    _PEOPLE.update()
    .where(_PEOPLE.c.id == bindparam("person"), _PEOPLE.c.notice_at.is_(None))
    .values(notice_at=bindparam("at", type_=_PEOPLE.c.notice_at.type))
)


async def me(ctx: Context) -> None:
    async with ctx.db.session() as session:
        person = await find_person(session, ctx.event.platform, ctx.event.user)
        kept = None if person is None else await privacy.kept_about(session, person)
    ctx.reply("me", kept=kept)


async def ask_to_erase(ctx: Context) -> None:
    yes = ctx.label("erase_button", choice="yes")
    no = ctx.label("erase_button", choice="no")
    ctx.reply("erase_confirm", buttons=(Button(yes, f"{PREFIX}:yes"), Button(no, f"{PREFIX}:no")))


async def erase(ctx: Context) -> None:
    user = ctx.event.user
    if user is None:
        ctx.answer_button()
        return
    if ctx.args != "yes":
        ctx.answer_button()
        ctx.edit("erase_result", outcome="cancelled")
        return
    erased = await privacy.erase(ctx.db, ctx.event.platform.value, user.id)
    ctx.answer_button()
    ctx.edit("erase_result", outcome="done" if erased else "nothing")


def router() -> Router:
    r = Router()
    r.first(first_contact)
    r.command("toi", private=True)(me)
    r.command("xoadulieu", private=True)(ask_to_erase)
    r.phrase("xóa dữ liệu", "xóa dữ liệu của tôi")(ask_to_erase)
    r.button(PREFIX, private=True)(erase)
    return r
