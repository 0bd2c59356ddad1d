"""/thongbao: an official composes an announcement in private chat — text, then audiences, units,
urgency and time on one draft message edited as they tap — and submits it; every other official
whose scope covers its units is asked to approve. Approval enqueues it; the author then sees
its progress (bot.services.announcements.ProgressReporter).

Button data: "ann:<id>:<op>[:<arg>…]": for the author of a draft a (audience), u (unit),
urgent, time, submit, cancel; for an approver ok, no. The two kinds of op need different actions,
so the route declares only a person and each op authorizes its own. A tap carries the state it
sets ("a:parents:on"), never a toggle, so a tap handled twice cannot flip a choice back.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.dispatch import Context, Router
from bot.domain import Button
from bot.services import announcements as service
from bot.services.permissions import Action
from bot.services.units import bound_chats, tops
from bot.storage.models import Announcement, AnnouncementStatus, Person, Unit, utcnow
from bot.text import utf16_len
from handlers import conversation

PREFIX = service.PREFIX
FLOW = "announce"
ON, OFF = "on", "off"
T = TypeVar("T")
_WHEN = re.compile(r"^\s*(\d{1,2})[:hg](\d{2})\s+(\d{1,2})/(\d{1,2})(?:/(\d{4}))?\s*$")


async def compose(ctx: Context) -> None:
    if not ctx.args.strip():
        async with ctx.db.session() as session:
            await conversation.begin(session, ctx.person_id, FLOW, step="text")
        ctx.reply("announce_ask", step="text")
        return
    await _new_draft(ctx, ctx.args)


async def on_text(ctx: Context) -> bool:
    """Typed text that continues an announcement being composed; False if there is none."""
    state = await conversation.step(ctx, FLOW, Action.ANNOUNCE)
    if state is None:
        return False
    async with ctx.db.session() as session:
        text = ctx.event.text or ""
        if state.get("step") == "text":
            await _new_draft(ctx, text)
            return True
        a = await session.get(Announcement, state.get("announcement", -1))
        if a is None or a.status != AnnouncementStatus.DRAFT or a.author_id != ctx.person_id:
            return False
        due = _parse_when(text, ctx.templates.timezone)
        if due is None or due <= utcnow():
            await conversation.begin(session, ctx.person_id, FLOW, **state)
            ctx.reply("announce_ask", step="time_again")
            return True
        a.due_at = due
        session.add(a)
        await session.commit()
        values, buttons = await _draft_view(ctx, session, a)
    if ctx.event.chat_id and state.get("draft_message"):  # the old draft keeps no buttons
        ctx.edit_at(ctx.event.chat_id, state["draft_message"], "announce_draft", **values)
    ctx.reply("announce_draft", buttons=buttons, **values)
    return True


async def tapped(ctx: Context) -> None:
    number, _, rest = ctx.args.partition(":")
    op, _, arg = rest.partition(":")
    if not number.isdigit():
        ctx.answer_button("announce_refused", reason="stale")
    elif op in ("ok", "no"):
        await _decide(ctx, int(number), approve=op == "ok")
    elif not await ctx.authorize(Action.ANNOUNCE):
        ctx.answer_button("announce_refused", reason="stale")
    elif op == "cancel":
        await _withdraw(ctx, int(number))
    else:
        await _change_draft(ctx, int(number), op, arg)


async def _change_draft(ctx: Context, number: int, op: str, arg: str) -> None:
    value, _, state = arg.rpartition(":") if op in ("a", "u") else ("", "", arg)
    on = state == ON
    async with ctx.db.session() as session:
        a = await session.get(Announcement, number)
        if a is None or a.author_id != ctx.person_id or a.status != AnnouncementStatus.DRAFT:
            ctx.answer_button("announce_refused", reason="stale")
            return
        if op == "a" and value in service.AUDIENCES and state in (ON, OFF):
            a.audiences = _set(a.audiences, value, on)
        elif op == "u" and value.isdigit() and int(value) in ctx.scope and state in (ON, OFF):
            a.unit_ids = _set(a.unit_ids, int(value), on)
        elif op == "urgent" and state in (ON, OFF):
            a.urgent = on
        elif op == "time":
            await conversation.begin(
                session, ctx.person_id, FLOW, step="time", announcement=number,
                draft_message=ctx.event.message_id,
            )  # fmt: skip
            ctx.answer_button()
            ctx.reply("announce_ask", step="time")
            return
        elif op == "submit":
            await _submit(ctx, session, a)
            return
        else:
            ctx.answer_button("announce_refused", reason="stale")
            return
        session.add(a)
        await session.commit()
        values, buttons = await _draft_view(ctx, session, a)
    ctx.answer_button()
    ctx.edit("announce_draft", buttons=buttons, **values)


async def _new_draft(ctx: Context, typed: str) -> None:
    if not typed.strip() or utf16_len(typed.strip()) > service.MAX_TEXT:  # as Telegram counts
        async with ctx.db.session() as session:
            await conversation.begin(session, ctx.person_id, FLOW, step="text")
        ctx.reply("announce_ask", step="too_long", limit=service.MAX_TEXT)
        return
    async with ctx.db.session() as session:
        roots = await tops(session, set(ctx.scope))
        a = Announcement(
            author_id=ctx.person_id,
            text=service.as_html(typed),
            unit_ids=[u.id for u in roots if u.id is not None],
        )
        session.add(a)
        await session.commit()
        values, buttons = await _draft_view(ctx, session, a)
    ctx.reply("announce_draft", buttons=buttons, **values)


async def _draft_view(
    ctx: Context, session: AsyncSession, a: Announcement
) -> tuple[dict[str, Any], tuple[Button, ...]]:
    """The draft template's values, and its buttons (each sets the opposite of what is shown)."""
    units = await service.choices(session, ctx.scope)
    chosen = [u.name for u in units if u.id in a.unit_ids]
    values = {"a": a, "unit_names": chosen, "groups": await _reach(session, a), "number": a.id}

    def button(kind: str, op: str, value: object = "", on: bool | None = None) -> Button:
        data = (
            f"{PREFIX}:{a.id}:{op}" if on is None else f"{PREFIX}:{a.id}:{op}:{OFF if on else ON}"
        )
        return Button(ctx.label("announce_button", kind=kind, value=value, on=bool(on)), data)

    buttons = [button("audience", f"a:{x}", x, x in a.audiences) for x in service.AUDIENCES]
    buttons += [button("unit", f"u:{u.id}", u.name, u.id in a.unit_ids) for u in units]
    buttons += [
        button("urgent", "urgent", on=a.urgent),
        button("time", "time"),
        button("submit", "submit"),
        button("cancel", "cancel"),
    ]
    return values, tuple(buttons)


async def _reach(session: AsyncSession, a: Announcement) -> int:
    """How many bound groups the announcement would reach now."""
    return len(await bound_chats(session, a.audiences, a.unit_ids)) if a.audiences else 0


async def _submit(ctx: Context, session: AsyncSession, a: Announcement) -> None:
    assert a.id is not None
    reach = await _reach(session, a)
    if not a.audiences or not a.unit_ids:
        ctx.answer_button("announce_refused", reason="incomplete")
        return
    if reach == 0:
        ctx.answer_button("announce_refused", reason="no_groups")
        return
    await session.commit()  # the submission below is its own transaction (SQLite: one writer)
    shown_at = (ctx.event.chat_id or "", ctx.event.message_id)
    if not await service.submit(ctx.db, a.id, ctx.person_id, shown_at):
        ctx.answer_button("announce_refused", reason="stale")
        return
    approvers = await service.approvers(session, a, ctx.event.platform)
    names = await _unit_names(session, a)
    author = ctx.person.display_name if ctx.person else ""
    for approver in approvers:
        ctx.send_to(
            approver.platform_user_id,
            "announce_request",
            buttons=service.decision_buttons(ctx.templates, a.id),
            a=a,
            number=a.id,
            author=author,
            unit_names=names,
            groups=reach,
        )
    ctx.answer_button()
    withdraw = ctx.label("announce_button", kind="withdraw", value="", on=False)
    ctx.edit(
        "announce_decided",
        outcome="submitted",
        number=a.id,
        asked=len(approvers),
        buttons=(Button(withdraw, f"{PREFIX}:{a.id}:cancel"),),
    )


async def _withdraw(ctx: Context, number: int) -> None:
    """The author takes back a draft, or a submitted announcement nobody has decided on yet."""
    if not await service.withdraw(ctx.db, number, ctx.person_id):
        ctx.answer_button("announce_refused", reason="decided")
        ctx.edit("announce_decided", outcome="closed", number=number)
        return
    ctx.answer_button()
    ctx.edit("announce_decided", outcome="cancelled", number=number)


async def _unit_names(session: AsyncSession, a: Announcement) -> list[str]:
    return list((await session.exec(select(Unit.name).where(col(Unit.id).in_(a.unit_ids)))).all())


async def waiting(ctx: Context) -> None:
    """/duyet: the announcements waiting for this official's decision, each with its buttons
    (for an official added after it was submitted, or who lost the message)."""
    found = 0
    async with ctx.db.session() as session:
        query = select(Announcement).where(
            Announcement.status == AnnouncementStatus.PENDING,
            Announcement.author_id != ctx.person_id,
        )
        for a in (await session.exec(query.order_by(col(Announcement.id)))).all():
            if a.id is None or not set(a.unit_ids) <= ctx.scope:
                continue
            author = await session.get(Person, a.author_id or -1)
            found += 1
            ctx.reply(
                "announce_request",
                buttons=service.decision_buttons(ctx.templates, a.id),
                a=a,
                number=a.id,
                author=author.display_name if author else "",
                unit_names=await _unit_names(session, a),
                groups=await _reach(session, a),
            )
    if not found:
        ctx.reply("announce_decided", outcome="none_waiting", number=0)


async def _decide(ctx: Context, number: int, approve: bool) -> None:
    if not await ctx.authorize(Action.APPROVE_ANNOUNCEMENT):
        ctx.answer_button("announce_refused", reason="forbidden")
        return
    async with ctx.db.session() as session:
        a = await session.get(Announcement, number)
        if a is None:
            ctx.answer_button("announce_refused", reason="stale")
            return
        author = await session.get(Person, a.author_id or -1)
    if a.author_id == ctx.person_id:
        ctx.answer_button("announce_refused", reason="own")
        return
    if not set(a.unit_ids) <= ctx.scope:
        ctx.answer_button("announce_refused", reason="forbidden")
        return
    if not await service.decide(
        ctx.db, number, ctx.person_id, approve=approve, templates=ctx.templates
    ):
        ctx.answer_button("announce_refused", reason="decided")
        ctx.edit("announce_decided", outcome="closed", number=number)
        return
    ctx.answer_button()
    outcome = "approved" if approve else "rejected"
    by = ctx.person.display_name if ctx.person else ""
    ctx.edit("announce_decided", outcome=outcome, number=number, by=by)
    if author is not None and author.platform == ctx.event.platform:
        if not approve and a.progress_chat and a.progress_message:  # its «Rút lại» goes
            ctx.edit_at(
                a.progress_chat, a.progress_message, "announce_decided",
                outcome="rejected_author", number=number, by=by,
            )  # fmt: skip
        ctx.send_to(
            author.platform_user_id,
            "announce_decided",
            outcome=f"{outcome}_author",
            number=number,
            by=by,
        )


def _set(values: list[T], value: T, on: bool) -> list[T]:
    """`values` with `value` in it or not, as asked: the same answer however often it is set."""
    rest = [v for v in values if v != value]
    return [*rest, value] if on else rest


def _parse_when(text: str, tz: ZoneInfo) -> datetime | None:
    """ "07:30 25/11" or "7g30 25/11/2026", in local time. A date without a year means this
    year; if that has passed, the person is asked again (never silently next year)."""
    match = _WHEN.match(text)
    if match is None:
        return None
    hour, minute, day, month, year = match.groups()
    now = utcnow().astimezone(tz)
    try:
        return datetime(
            int(year or now.year), int(month), int(day), int(hour), int(minute), tzinfo=tz
        )
    except ValueError:
        return None


def router() -> Router:
    r = Router()
    r.command("thongbao", private=True, action=Action.ANNOUNCE)(compose)
    r.command("duyet", private=True, action=Action.APPROVE_ANNOUNCEMENT)(waiting)
    r.button(PREFIX, private=True, person=True)(tapped)
    return r
