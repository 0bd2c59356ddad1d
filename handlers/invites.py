"""Invites: /moi creates a code for a role in a unit, /huymoi revokes one, and a person joins
by opening the link (/start CODE) or by sending the code in a private chat."""

from __future__ import annotations

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.dispatch import Context, Router
from bot.services import invites, tasks
from bot.services.people import upsert_person
from bot.services.permissions import INVITE_ACTION, STAFF, Action, may, scope
from bot.storage.models import Invite, Person, RoleName, Unit


def _role(args: list[str]) -> tuple[RoleName | None, list[str]]:
    """The role named by the first one or two words ("giaovien", "giáo viên"), and the rest."""
    for taken in (1, 2):
        role = invites.role_named("".join(args[:taken]))
        if role is not None:
            return role, args[taken:]
    return None, args


async def create_invite(ctx: Context) -> None:
    me = ctx.person_id
    async with ctx.db.session() as session:
        offered = [r for r in RoleName if await may(session, me, INVITE_ACTION[r])]
        if not offered:
            ctx.reply("not_allowed")
            return
        args = ctx.args.split()
        if len(args) < 2:
            await _usage(ctx, session, me, offered)
            return
        role, args = _role(args)
        if role is None or not args:
            ctx.reply("invite_bad_input", problem="role", value=ctx.args.split()[0])
            return
        query = select(Unit).where(Unit.code == args[0].lower(), col(Unit.active))
        unit = (await session.exec(query)).first()
        if unit is None or unit.id is None:
            ctx.reply("invite_bad_input", problem="unit", value=args[0])
            return
        numbers = args[1:3]
        if not all(n.isdigit() for n in numbers) or len(args) > 3:
            ctx.reply("invite_bad_input", problem="number", value=" ".join(args[1:]))
            return
        if not await may(session, me, INVITE_ACTION[role], unit.id):
            ctx.reply("not_allowed")
            return
        uses = int(numbers[0]) if numbers else None
        days = int(numbers[1]) if len(numbers) > 1 else invites.DEFAULT_DAYS
        if unit.kind not in invites.UNIT_KINDS[role]:
            ctx.reply("invite_bad_input", problem="kind", value=unit.name, role=role.value)
            return
        try:
            invite, code = await invites.create(session, role, unit.id, me, uses=uses, days=days)
        except ValueError:
            ctx.reply("invite_bad_input", problem="number", value=" ".join(numbers))
            return
        await session.commit()
    ctx.reply(
        "invite_created",
        code=code,
        link=ctx.start_link(code),
        role=role.value,
        unit_name=unit.name,
        expires_at=invite.expires_at,
        uses=invite.max_uses,
        invite_id=invite.id,
    )


async def _usage(ctx: Context, session: AsyncSession, me: int, roles: list[RoleName]) -> None:
    scopes = {role: await scope(session, me, INVITE_ACTION[role]) for role in roles}
    units = set().union(*scopes.values())
    rows = sorted((await session.exec(select(Unit).where(col(Unit.id).in_(units)))).all(),
                  key=lambda u: u.code)  # fmt: skip
    # An example /moi would accept: a role, and a unit of a kind that role is held in.
    example = next(
        (
            (invites.KEYWORD[role], unit.code)
            for role in roles
            for unit in rows
            if unit.id in scopes[role] and unit.kind in invites.UNIT_KINDS[role]
        ),
        None,
    )
    listed = [(u.code, u.name) for u in rows]
    ctx.reply(
        "invite_usage",
        roles=[(invites.KEYWORD[r], r.value) for r in roles],
        units=listed,
        example=example,
    )


async def revoke_invite(ctx: Context) -> None:
    if not ctx.args.strip().isdigit():
        ctx.reply("invite_revoked", outcome="usage", invite_id="")
        return
    invite_id = int(ctx.args)
    me = ctx.person_id
    async with ctx.db.session() as session:
        invite = await session.get(Invite, invite_id)
        allowed = invite is not None and (
            invite.created_by == me or await may(session, me, Action.REVOKE_INVITE, invite.unit_id)
        )
        if invite is None or not allowed:
            ctx.reply("invite_revoked", outcome="unknown", invite_id=invite_id)
            return
        done = await invites.revoke(session, invite)
    ctx.reply("invite_revoked", outcome="done" if done else "already", invite_id=invite_id)


async def join(ctx: Context, code: str) -> None:
    """Redeem `code` for the person writing (from /start CODE or a typed code)."""
    user = ctx.event.user
    assert user is not None
    async with ctx.db.session() as session:
        person_id = await upsert_person(session, ctx.db, ctx.event.platform, user)
        await session.commit()
        person = await session.get(Person, person_id)
        assert person is not None
        result = await invites.redeem(session, person, code)
    if result.outcome is invites.Outcome.JOINED and result.role in STAFF:
        # reminders that waited for someone in the units this person now answers for
        async with ctx.db.session() as session:
            units = await scope(session, person_id, Action.REPORT_TASK)
        await tasks.catch_up(ctx.db, ctx.templates, units)
    ctx.reply(
        "code_result",
        outcome=result.outcome.value,
        role=result.role,
        unit_name=result.unit_name,
        wait_minutes=result.wait_minutes,
    )


async def typed_code(ctx: Context) -> None:
    """/ma CODE, for those who type the command the guide shows."""
    if ctx.event.user is None:
        return
    await join(ctx, invites.normalize(ctx.args) or ctx.args.strip())


def router() -> Router:
    r = Router()
    r.command("moi", private=True, person=True)(create_invite)
    r.command("huymoi", private=True, person=True)(revoke_invite)
    r.command("ma", private=True)(typed_code)
    return r
