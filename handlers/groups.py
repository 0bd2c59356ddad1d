"""Groups: when loa is added to a group, the staff member who added it binds it to a unit and an
audience with buttons; an unbound group receives nothing. Removal deactivates the chat, a
migration to a supergroup moves it to its new id.

Button data: "bind:<chat>:u:<unit>" opens a unit (its classes…), "bind:<chat>:p:<unit>" picks
it, "bind:<chat>:a:<unit>:<audience>" binds. Every tap is checked against the permission table, and
only the person who added loa (or an official over the unit) may bind: another school's admin
who happens to be in the group may not.
"""

from __future__ import annotations

import logging

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.dispatch import Context, Router
from bot.domain import Audience, Button, ChatType, EventKind, UnitKind
from bot.services.permissions import Action, roles_of
from bot.services.units import tops
from bot.storage import deliveries
from bot.storage.models import Chat, RoleName, Unit, utcnow

log = logging.getLogger(__name__)
PREFIX = "bind"
A = Audience
AUDIENCES: dict[UnitKind, tuple[Audience, ...]] = {  # who a group of such a unit can be for
    UnitKind.ward: (A.staff, A.officials, A.community),
    UnitKind.department: (A.staff, A.officials),
    UnitKind.school: (A.parents, A.teachers, A.staff, A.managers, A.students),
    UnitKind.class_: (A.parents, A.students, A.teachers),
    UnitKind.residential_group: (A.community, A.parents),
}


async def bot_added(ctx: Context) -> None:
    event = ctx.event
    if event.chat_type is not ChatType.GROUP or event.chat_id is None:
        return
    allowed = await ctx.authorize(Action.BIND_GROUP)
    async with ctx.db.session() as session:
        chat = await _chat(session, ctx)
        chat.active = True
        if chat.unit_id is None and allowed:
            chat.added_by = ctx.person_id
        session.add(chat)
        await session.commit()
        if chat.unit_id is not None:
            return  # added back to a group it was bound to: it keeps its binding
        if not allowed:
            log.info("bot added to a %s group by someone who may not bind it", event.platform)
            if ctx.person is not None and event.user is not None:  # privately, not in the group
                ctx.send_to(event.user.id, "bind_not_allowed", title=event.chat_title or "")
            return
        roots = await tops(session, set(ctx.scope))
        assert chat.id is not None
        if len(roots) == 1:
            buttons = await _unit_step(ctx, session, chat.id, roots[0], set(ctx.scope))
            ctx.reply("bind_prompt", buttons=buttons, step="unit", unit_name=roots[0].name)
        else:
            buttons = tuple(_open_or_pick(chat.id, u, has_children=True) for u in roots)
            ctx.reply("bind_prompt", buttons=buttons, step="roots", unit_name="")


async def bind_command(ctx: Context) -> None:
    """/ganhom in a group: ask to bind it, as when loa is added. Zalo Bot tells loa nothing when
    it joins a group, so there a staff member mentions loa with it ("@Loa /ganhom"); on
    Telegram it brings back a prompt that was lost. A bound group says what it is bound to."""
    if ctx.event.chat_type is not ChatType.GROUP or ctx.event.chat_id is None:
        ctx.reply("group_only", command="ganhom")
        return
    async with ctx.db.session() as session:
        chat = await _find(session, ctx, ctx.event.chat_id)
        unit = await session.get(Unit, chat.unit_id) if chat and chat.unit_id else None
    if chat is not None and unit is not None:
        ctx.reply("bind_already", unit_name=unit.name, audience=chat.audience or "")
        return
    await bot_added(ctx)


async def tapped(ctx: Context) -> None:
    parts = ctx.args.split(":")
    if len(parts) < 3 or not parts[0].isdigit() or not parts[2].isdigit():
        ctx.answer_button("bind_refused", reason="stale")
        return
    chat_pk, step, unit_id = int(parts[0]), parts[1], int(parts[2])
    audience = parts[3] if step == "a" and len(parts) == 4 else None
    async with ctx.db.session() as session:
        chat = await session.get(Chat, chat_pk)
        unit = await session.get(Unit, unit_id)
        here = chat is not None and chat.platform_chat_id == ctx.event.chat_id
        if chat is None or unit is None or not here or chat.type != ChatType.GROUP:
            ctx.answer_button("bind_refused", reason="stale")
            return
        if unit_id not in ctx.scope or not await _may_bind(session, ctx, chat):
            ctx.answer_button("bind_refused", reason="forbidden")
            return
        if chat.unit_id is not None:
            ctx.answer_button("bind_refused", reason="bound")
            return
        kinds = AUDIENCES[UnitKind(unit.kind)]
        if step == "u":
            buttons = await _unit_step(ctx, session, chat_pk, unit, set(ctx.scope))
            ctx.answer_button()
            ctx.edit("bind_prompt", buttons=buttons, step="unit", unit_name=unit.name)
            return
        if step == "p":
            buttons = tuple(
                Button(
                    ctx.label("name_of", kind="audience", value=a),
                    f"{PREFIX}:{chat_pk}:a:{unit_id}:{a}",
                )
                for a in kinds
            )
            ctx.answer_button()
            ctx.edit("bind_prompt", buttons=buttons, step="audience", unit_name=unit.name)
            return
        if audience not in kinds:
            ctx.answer_button("bind_refused", reason="stale")
            return
    members = await ctx.count_members(chat.platform_chat_id)
    async with ctx.db.session() as session:
        chat = await session.get(Chat, chat_pk)
        if chat is None or chat.unit_id is not None:  # bound by someone else meanwhile
            ctx.answer_button("bind_refused", reason="bound")
            return
        chat.unit_id, chat.audience, chat.bound_by, chat.bound_at = (
            unit_id,
            audience,
            ctx.person_id,
            utcnow(),
        )
        chat.member_count, chat.member_count_at = members, utcnow() if members is not None else None
        session.add(chat)
        await session.commit()
    ctx.answer_button()
    ctx.edit("bind_done", unit_name=unit.name, audience=audience, members=members)


async def _may_bind(session: AsyncSession, ctx: Context, chat: Chat) -> bool:
    """The person who added loa binds the group; besides them, only an official."""
    if chat.added_by == ctx.person_id:
        return True
    return any(r.role == RoleName.OFFICIAL for r in await roles_of(session, ctx.person_id))


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
    if new is not None and old.id is not None and new.id is not None:
        await deliveries.move_waiting(ctx.db, old.id, new.id)  # what waited goes there


async def _chat(session: AsyncSession, ctx: Context) -> Chat:
    chat = await _find(session, ctx, ctx.event.chat_id)
    if chat is None:
        assert ctx.event.chat_id is not None
        chat = Chat(
            platform=ctx.event.platform.value,
            platform_chat_id=ctx.event.chat_id,
            type=ChatType.GROUP,
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
) -> tuple[Button, ...]:
    """The choice inside `unit`: the unit itself, or one of its units."""
    children = (
        await session.exec(
            select(Unit).where(Unit.parent_id == unit.id, col(Unit.active)).order_by(Unit.name)
        )
    ).all()
    parents = {
        p for p in (await session.exec(select(Unit.parent_id).where(col(Unit.active)))).all() if p
    }
    whole = ctx.label("bind_whole", unit_name=unit.name)
    buttons = [Button(whole, f"{PREFIX}:{chat_pk}:p:{unit.id}")]
    buttons += [
        _open_or_pick(chat_pk, c, has_children=c.id in parents) for c in children if c.id in allowed
    ]
    return tuple(buttons)


def _open_or_pick(chat_pk: int, unit: Unit, *, has_children: bool) -> Button:
    step = "u" if has_children else "p"
    return Button(unit.name, f"{PREFIX}:{chat_pk}:{step}:{unit.id}")


def router() -> Router:
    r = Router()
    r.event(EventKind.BOT_ADDED)(bot_added)
    r.command("ganhom")(bind_command)
    r.event(EventKind.BOT_REMOVED)(bot_removed)
    r.event(EventKind.CHAT_MIGRATED)(migrated)
    r.button(PREFIX, action=Action.BIND_GROUP, refusal="bind_refused")(tapped)
    return r
