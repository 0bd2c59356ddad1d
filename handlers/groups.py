"""Groups: when loa is added to a group, the staff member who added it binds it to a unit and an
audience with buttons; an unbound group receives nothing. Removal deactivates the chat, a
migration to a supergroup moves it to its new id.

Button data: "bind:<chat>:u:<unit>" opens a unit (its classes…), "bind:<chat>:p:<unit>" picks
it, "bind:<chat>:a:<unit>:<audience>" binds. Every tap is checked against the permission table.
"""

from __future__ import annotations

import logging

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.domain import Button, ChatType, EventKind, OutboundMessage
from bot.platforms.base import SendError
from bot.services.permissions import Action, scope
from bot.services.units import tops
from bot.storage.models import Chat, Unit, utcnow
from handlers.people import find_person
from handlers.router import Context, Router

log = logging.getLogger(__name__)
PREFIX = "bind"
AUDIENCES: dict[str, tuple[str, ...]] = {  # who a group of such a unit can be for
    "ward": ("staff", "officials", "community"),
    "department": ("staff", "officials"),
    "school": ("parents", "teachers", "staff", "managers", "students"),
    "class": ("parents", "students", "teachers"),
    "residential_group": ("community", "parents"),
}


async def bot_added(ctx: Context) -> None:
    event = ctx.event
    if event.chat_type is not ChatType.GROUP or event.chat_id is None:
        return
    async with ctx.db.session() as session:
        chat = await _chat(session, ctx)
        chat.active = True
        adder = await find_person(session, event.platform, event.user)
        allowed = await scope(session, adder.id if adder else None, Action.BIND_GROUP)
        if chat.unit_id is None and allowed and adder is not None:
            chat.added_by = adder.id
        session.add(chat)
        await session.commit()
        if chat.unit_id is not None:
            return  # added back to a group it was bound to: it keeps its binding
        if not allowed:
            log.info("bot added to a %s group by someone who may not bind it", event.platform)
            await _explain_in_private(ctx, registered=adder is not None)
            return
        roots = await tops(session, allowed)
        assert chat.id is not None
        if len(roots) == 1:
            text, buttons = await _unit_step(ctx, session, chat.id, roots[0], allowed)
        else:
            text = ctx.templates.render("bind_prompt", step="roots", unit_name="")
            buttons = tuple(_open_or_pick(chat.id, u, has_children=True) for u in roots)
    await ctx.adapter.send(OutboundMessage(event.chat_id, text, buttons))


async def tapped(ctx: Context) -> None:
    parts = ctx.args.split(":")
    if len(parts) < 3 or not parts[0].isdigit() or not parts[2].isdigit():
        await ctx.answer_button("bind_refused", reason="stale")
        return
    chat_pk, step, unit_id = int(parts[0]), parts[1], int(parts[2])
    audience = parts[3] if step == "a" and len(parts) == 4 else None
    # Checks and the next step's view in one short transaction; network calls come after it.
    async with ctx.db.session() as session:
        chat = await session.get(Chat, chat_pk)
        unit = await session.get(Unit, unit_id)
        here = chat is not None and chat.platform_chat_id == ctx.event.chat_id
        if chat is None or unit is None or not here or chat.type != "group":
            await ctx.answer_button("bind_refused", reason="stale")
            return
        person = await find_person(session, ctx.event.platform, ctx.event.user)
        allowed = await scope(session, person.id if person else None, Action.BIND_GROUP)
        if unit_id not in allowed:
            await ctx.answer_button("bind_refused", reason="forbidden")
            return
        if chat.unit_id is not None:
            await ctx.answer_button("bind_refused", reason="bound")
            return
        if step == "u":
            text, buttons = await _unit_step(ctx, session, chat_pk, unit, allowed)
        elif step == "p":
            text = ctx.templates.render("bind_prompt", step="audience", unit_name=unit.name)
            buttons = tuple(
                Button(
                    ctx.templates.render_plain("name_of", kind="audience", value=a),
                    f"{PREFIX}:{chat_pk}:a:{unit_id}:{a}",
                )
                for a in AUDIENCES[unit.kind]
            )
        elif audience not in AUDIENCES[unit.kind]:
            await ctx.answer_button("bind_refused", reason="stale")
            return
        binder, unit_name = person.id if person else None, unit.name
    await ctx.answer_button()
    if step in ("u", "p"):
        await ctx.adapter.edit_text(
            chat.platform_chat_id, ctx.event.message_id or "", text, buttons
        )
        return
    members = await _members(ctx, chat.platform_chat_id)
    async with ctx.db.session() as session:
        chat = await session.get(Chat, chat_pk)
        if chat is None or chat.unit_id is not None:  # bound by someone else meanwhile
            return
        chat.unit_id, chat.audience, chat.bound_by, chat.bound_at = (
            unit_id,
            audience,
            binder,
            utcnow(),
        )
        chat.member_count, chat.member_count_at = members, utcnow() if members is not None else None
        session.add(chat)
        await session.commit()
    await ctx.edit("bind_done", unit_name=unit_name, audience=audience, members=members)


async def bot_removed(ctx: Context) -> None:
    if ctx.event.chat_type is not ChatType.GROUP:
        return
    async with ctx.db.session() as session:
        chat = await _find(session, ctx, ctx.event.chat_id)
        if chat is not None:
            chat.active = False
            session.add(chat)
            await session.commit()


async def migrated(ctx: Context) -> None:
    """The group became a supergroup: the same chat, under a new id."""
    new_id = ctx.event.new_chat_id
    if new_id is None:
        return
    async with ctx.db.session() as session:
        old = await _find(session, ctx, ctx.event.chat_id)
        if old is None:
            return
        new = await _find(session, ctx, new_id)
        if new is not None:  # the new id was seen first: it takes over the binding
            new.unit_id, new.audience = new.unit_id or old.unit_id, new.audience or old.audience
            new.bound_by, new.bound_at = new.bound_by or old.bound_by, new.bound_at or old.bound_at
            old.active = False
            session.add(new)
        else:
            old.platform_chat_id = new_id
        session.add(old)
        await session.commit()


async def _chat(session: AsyncSession, ctx: Context) -> Chat:
    chat = await _find(session, ctx, ctx.event.chat_id)
    if chat is None:
        assert ctx.event.chat_id is not None
        chat = Chat(
            platform=ctx.event.platform.value, platform_chat_id=ctx.event.chat_id, type="group"
        )
    chat.title = (ctx.event.chat_title or chat.title)[:255]
    return chat


async def _find(session: AsyncSession, ctx: Context, platform_chat_id: str | None) -> Chat | None:
    query = select(Chat).where(
        Chat.platform == ctx.event.platform.value, Chat.platform_chat_id == platform_chat_id
    )
    return (await session.exec(query)).first()


async def _unit_step(
    ctx: Context, session: AsyncSession, chat_pk: int, unit: Unit, allowed: set[int]
) -> tuple[str, tuple[Button, ...]]:
    """The choice inside `unit`: the unit itself, or one of its units."""
    children = (
        await session.exec(
            select(Unit).where(Unit.parent_id == unit.id, col(Unit.active)).order_by(Unit.name)
        )
    ).all()
    parents = {
        p for p in (await session.exec(select(Unit.parent_id).where(col(Unit.active)))).all() if p
    }
    whole = ctx.templates.render_plain("bind_whole", unit_name=unit.name)
    buttons = [Button(whole, f"{PREFIX}:{chat_pk}:p:{unit.id}")]
    buttons += [
        _open_or_pick(chat_pk, c, has_children=c.id in parents) for c in children if c.id in allowed
    ]
    text = ctx.templates.render("bind_prompt", step="unit", unit_name=unit.name)
    return text, tuple(buttons)


def _open_or_pick(chat_pk: int, unit: Unit, *, has_children: bool) -> Button:
    step = "u" if has_children else "p"
    return Button(unit.name[:64], f"{PREFIX}:{chat_pk}:{step}:{unit.id}")


async def _members(ctx: Context, platform_chat_id: str) -> int | None:
    """People in the group, the bot left out; None if the platform cannot tell now."""
    if not ctx.adapter.capabilities.member_count:
        return None
    try:
        return await ctx.adapter.member_count(platform_chat_id)
    except SendError as e:
        log.warning("member count of a %s group failed: %s", ctx.event.platform, type(e).__name__)
        return None


async def _explain_in_private(ctx: Context, *, registered: bool) -> None:
    """Tell the person who added loa, privately, why the group stays unbound: never in the
    group. Only possible with someone who has written to loa before."""
    user = ctx.event.user
    if user is None or not registered:
        return
    text = ctx.templates.render("bind_not_allowed", title=ctx.event.chat_title or "")
    try:
        await ctx.adapter.send(OutboundMessage(user.id, text))
    except SendError as e:
        log.info("could not explain privately (%s)", type(e).__name__)


def router() -> Router:
    r = Router()
    r.event(EventKind.BOT_ADDED)(bot_added)
    r.event(EventKind.BOT_REMOVED)(bot_removed)
    r.event(EventKind.CHAT_MIGRATED)(migrated)
    r.button(PREFIX)(tapped)
    return r
