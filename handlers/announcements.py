"""/thongbao: an official composes an announcement in private chat — text, then audiences, units,
urgency and time on one draft message edited as they tap — and submits it; every other official
whose scope covers its units is asked to approve. Approval enqueues it; the author then sees
its progress (bot.services.announcements.ProgressReporter).

Button data: "ann:<id>:<op>[:<arg>]"; ops a (audience), u (unit), urgent, time, submit, cancel
for the author of a draft, ok and no for an approver of a pending one.
"""

from __future__ import annotations

import logging
import re
from datetime import datetime
from typing import TypeVar
from zoneinfo import ZoneInfo

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.domain import Button, OutboundMessage, Platform
from bot.platforms.base import SendError
from bot.services import announcements as service
from bot.services.permissions import Action, scope
from bot.services.units import bound_chats, tops
from bot.storage.models import Announcement, Person, Unit, utcnow
from handlers import conversation
from handlers.people import find_person
from handlers.router import Context, Router

log = logging.getLogger(__name__)
PREFIX = "ann"
FLOW = "announce"
T = TypeVar("T")
_WHEN = re.compile(r"^\s*(\d{1,2})[:hg](\d{2})\s+(\d{1,2})/(\d{1,2})(?:/(\d{4}))?\s*$")


async def compose(ctx: Context) -> None:
    if not ctx.is_private:
        await ctx.reply("private_only", command="thongbao")
        return
    async with ctx.db.session() as session:
        person = await find_person(session, ctx.event.platform, ctx.event.user)
        if person is None or not await scope(session, person.id, Action.ANNOUNCE):
            await ctx.reply("not_allowed")
            return
        assert person.id is not None
        if not ctx.args.strip():
            await conversation.begin(session, person.id, FLOW, step="text")
            await ctx.reply("announce_ask", step="text")
            return
    await _new_draft(ctx, person.id, ctx.args)


async def on_text(ctx: Context) -> bool:
    """Typed text that continues an announcement being composed; False if there is none."""
    async with ctx.db.session() as session:
        person = await find_person(session, ctx.event.platform, ctx.event.user)
        state = await conversation.current(session, person.id if person else None, FLOW)
        await session.commit()
        if person is None or person.id is None or state is None:
            return False
        text = ctx.event.text or ""
        if state.get("step") == "text":
            await _new_draft(ctx, person.id, text)
            return True
        announcement = await session.get(Announcement, state.get("announcement", -1))
        if announcement is None or announcement.status != "draft":
            return False
        due = _parse_when(text, ctx.templates.timezone)
        if due is None or due <= utcnow():
            await conversation.begin(session, person.id, FLOW, **state)
            await ctx.reply("announce_ask", step="time_again")
            return True
        announcement.due_at = due
        session.add(announcement)
        await session.commit()
        text_, buttons = await _draft_view(ctx, session, announcement, person.id)
    await ctx.adapter.send(OutboundMessage(ctx.event.chat_id or "", text_, buttons))
    return True


async def tapped(ctx: Context) -> None:
    parts = ctx.args.split(":")
    if len(parts) < 2 or not parts[0].isdigit():
        await ctx.answer_button("announce_refused", reason="stale")
        return
    number, op, arg = int(parts[0]), parts[1], parts[2] if len(parts) > 2 else ""
    if op in ("ok", "no"):
        await _decide(ctx, number, approve=op == "ok")
        return
    if op == "cancel":
        await _withdraw(ctx, number)
        return
    async with ctx.db.session() as session:
        announcement = await session.get(Announcement, number)
        person = await find_person(session, ctx.event.platform, ctx.event.user)
        if announcement is None or person is None or person.id is None:
            await ctx.answer_button("announce_refused", reason="stale")
            return
        if announcement.author_id != person.id or announcement.status != "draft":
            await ctx.answer_button("announce_refused", reason="stale")
            return
        allowed = await scope(session, person.id, Action.ANNOUNCE)
        if op == "a" and arg in service.AUDIENCES:
            announcement.audiences = _toggle(announcement.audiences, arg)
        elif op == "u" and arg.isdigit() and int(arg) in allowed:
            announcement.unit_ids = _toggle(announcement.unit_ids, int(arg))
        elif op == "urgent":
            announcement.urgent = not announcement.urgent
        elif op == "time":
            await conversation.begin(
                session, person.id, FLOW, step="time", announcement=announcement.id
            )
            await ctx.answer_button()
            await ctx.reply("announce_ask", step="time")
            return
        elif op == "submit":
            await _submit(ctx, session, announcement, person)
            return
        else:
            await ctx.answer_button("announce_refused", reason="stale")
            return
        session.add(announcement)
        await session.commit()
        text, buttons = await _draft_view(ctx, session, announcement, person.id)
    await ctx.answer_button()
    await ctx.adapter.edit_text(ctx.event.chat_id or "", ctx.event.message_id or "", text, buttons)


async def _new_draft(ctx: Context, person_id: int, typed: str) -> None:
    if not typed.strip() or len(typed) > service.MAX_TEXT:
        async with ctx.db.session() as session:
            await conversation.begin(session, person_id, FLOW, step="text")
        await ctx.reply("announce_ask", step="too_long", limit=service.MAX_TEXT)
        return
    async with ctx.db.session() as session:
        roots = await _choices(session, person_id, roots_only=True)
        announcement = Announcement(
            author_id=person_id,
            text=service.as_html(typed),
            unit_ids=[u.id for u in roots if u.id is not None],
        )
        session.add(announcement)
        await session.commit()
        text, buttons = await _draft_view(ctx, session, announcement, person_id)
    await ctx.adapter.send(OutboundMessage(ctx.event.chat_id or "", text, buttons))


async def _draft_view(
    ctx: Context, session: AsyncSession, a: Announcement, person_id: int
) -> tuple[str, tuple[Button, ...]]:
    units = await _choices(session, person_id)
    chosen = [u.name for u in units if u.id in a.unit_ids]
    reach = len(await bound_chats(session, a.audiences, a.unit_ids)) if a.audiences else 0
    text = ctx.templates.render("announce_draft", a=a, unit_names=chosen, groups=reach, number=a.id)

    def button(label: str, op: str) -> Button:
        return Button(label[:64], f"{PREFIX}:{a.id}:{op}")

    def label(kind: str, value: object = "", on: bool = False) -> str:
        return ctx.templates.render_plain("announce_button", kind=kind, value=value, on=on)

    buttons = [button(label("audience", x, x in a.audiences), f"a:{x}") for x in service.AUDIENCES]
    buttons += [button(label("unit", u.name, u.id in a.unit_ids), f"u:{u.id}") for u in units]
    buttons += [
        button(label("urgent", on=a.urgent), "urgent"),
        button(label("time"), "time"),
        button(label("submit"), "submit"),
        button(label("cancel"), "cancel"),
    ]
    return text, tuple(buttons)


async def _submit(ctx: Context, session: AsyncSession, a: Announcement, author: Person) -> None:
    if not a.audiences or not a.unit_ids:
        await ctx.answer_button("announce_refused", reason="incomplete")
        return
    a.status = "pending"
    session.add(a)
    await session.commit()
    approvers = [p for p in await service.approvers(session, a) if p.platform == ctx.event.platform]
    units = (await session.exec(select(Unit.name).where(col(Unit.id).in_(a.unit_ids)))).all()
    await session.commit()  # the sends below happen outside any transaction
    request, decide = _request(ctx, a, author.display_name, list(units))
    asked = 0
    for approver in approvers:
        try:
            await ctx.adapter.send(OutboundMessage(approver.platform_user_id, request, decide))
            asked += 1
        except SendError as e:  # never started the bot, or blocked it
            log.info("announcement %s: an approver was not reachable (%s)", a.id, type(e).__name__)
    await ctx.answer_button()
    withdraw = ctx.templates.render_plain("announce_button", kind="withdraw", value="", on=False)
    await ctx.edit(
        "announce_decided",
        outcome="submitted",
        number=a.id,
        asked=asked,
        buttons=(Button(withdraw, f"{PREFIX}:{a.id}:cancel"),),
    )


async def _withdraw(ctx: Context, number: int) -> None:
    """The author takes back a draft, or a submitted announcement nobody has decided on yet."""
    async with ctx.db.session() as session:
        person = await find_person(session, ctx.event.platform, ctx.event.user)
        me = person.id if person else None
    withdrawn = await service.withdraw(ctx.db, number, me) if me is not None else False
    if not withdrawn:
        await ctx.answer_button("announce_refused", reason="decided")
        return
    await ctx.answer_button()
    await ctx.edit("announce_decided", outcome="cancelled", number=number)


def _request(
    ctx: Context, a: Announcement, author: str, unit_names: list[str]
) -> tuple[str, tuple[Button, ...]]:
    """What an approver is asked: the announcement, and the approve and reject buttons."""
    text = ctx.templates.render(
        "announce_request", a=a, number=a.id, author=author, unit_names=unit_names
    )
    buttons = tuple(
        Button(
            ctx.templates.render_plain("announce_button", kind=kind, value="", on=False),
            f"{PREFIX}:{a.id}:{op}",
        )
        for kind, op in (("approve", "ok"), ("reject", "no"))
    )
    return text, buttons


async def waiting(ctx: Context) -> None:
    """/duyet: the announcements waiting for this official's decision, each with its buttons
    (for an official added after it was submitted, or who lost the message)."""
    if not ctx.is_private:
        await ctx.reply("private_only", command="duyet")
        return
    requests = []
    async with ctx.db.session() as session:
        person = await find_person(session, ctx.event.platform, ctx.event.user)
        allowed = await scope(session, person.id if person else None, Action.APPROVE_ANNOUNCEMENT)
        if person is None or not allowed:
            await ctx.reply("not_allowed")
            return
        query = select(Announcement).where(
            Announcement.status == "pending", Announcement.author_id != person.id
        )
        for a in (await session.exec(query.order_by(col(Announcement.id)))).all():
            if not set(a.unit_ids) <= allowed:
                continue
            author = await session.get(Person, a.author_id or -1)
            names = await session.exec(select(Unit.name).where(col(Unit.id).in_(a.unit_ids)))
            requests.append(_request(ctx, a, author.display_name if author else "", list(names)))
    if not requests:
        await ctx.reply("announce_decided", outcome="none_waiting", number=0)
    for text, buttons in requests:
        await ctx.adapter.send(OutboundMessage(ctx.event.chat_id or "", text, buttons))


async def _decide(ctx: Context, number: int, approve: bool) -> None:
    async with ctx.db.session() as session:
        a = await session.get(Announcement, number)
        person = await find_person(session, ctx.event.platform, ctx.event.user)
        if a is None or person is None or person.id is None:
            await ctx.answer_button("announce_refused", reason="stale")
            return
        if a.author_id == person.id:
            await ctx.answer_button("announce_refused", reason="own")
            return
        if not set(a.unit_ids) <= await scope(session, person.id, Action.APPROVE_ANNOUNCEMENT):
            await ctx.answer_button("announce_refused", reason="forbidden")
            return
        approver, approver_name, author_id = person.id, person.display_name, a.author_id
    # Decided in its own transactions, the session above closed: SQLite has one writer.
    if not await service.decide(ctx.db, number, approver, approve=approve):
        await ctx.answer_button("announce_refused", reason="decided")
        return
    await ctx.answer_button()
    outcome = "approved" if approve else "rejected"
    await ctx.edit("announce_decided", outcome=outcome, number=number, by=approver_name)
    async with ctx.db.session() as session:
        author = await session.get(Person, author_id or -1)
    if author is not None and Platform(author.platform) is ctx.event.platform:
        text = ctx.templates.render(
            "announce_decided", outcome=f"{outcome}_author", number=number, by=approver_name
        )
        try:
            await ctx.adapter.send(OutboundMessage(author.platform_user_id, text))
        except SendError as e:
            log.info("announcement %s: author not told (%s)", number, type(e).__name__)


async def _choices(session: AsyncSession, person_id: int, roots_only: bool = False) -> list[Unit]:
    """The units an announcement can be addressed to: the top of the person's scope and the
    units right below it (schools, departments, residential groups; not every class)."""
    allowed = await scope(session, person_id, Action.ANNOUNCE)
    roots = await tops(session, allowed)
    if roots_only:
        return roots
    top = [u.id for u in roots]
    query = select(Unit).where(col(Unit.parent_id).in_(top), col(Unit.id).in_(allowed))
    below = sorted((await session.exec(query)).all(), key=lambda u: (u.kind, u.name))
    return roots + below


def _toggle(values: list[T], value: T) -> list[T]:
    return [v for v in values if v != value] if value in values else [*values, value]


def _parse_when(text: str, tz: ZoneInfo) -> datetime | None:
    """ "07:30 25/11" or "7g30 25/11/2026", in local time; a date without a year that has
    passed means next year."""
    match = _WHEN.match(text)
    if match is None:
        return None
    hour, minute, day, month, year = match.groups()
    now = utcnow().astimezone(tz)
    try:
        when = datetime(
            int(year or now.year), int(month), int(day), int(hour), int(minute), tzinfo=tz
        )
    except ValueError:
        return None
    if year is None and when < now:
        when = when.replace(year=now.year + 1)
    return when


def router() -> Router:
    r = Router()
    r.command("thongbao")(compose)
    r.command("duyet")(waiting)
    r.button(PREFIX)(tapped)
    return r
