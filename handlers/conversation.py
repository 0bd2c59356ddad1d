"""Where a person is in a multi-step flow in private chat (the Conversation row): one flow at a
time per person, forgotten after `TTL` so a later message is not taken for a step long gone."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.dispatch import Context
from bot.services.permissions import Action
from bot.storage.models import Conversation, Person, utcnow

TTL = timedelta(minutes=30)


async def begin(session: AsyncSession, person_id: int, flow: str, **state: Any) -> None:
    """Start (or move on in) `flow`, replacing any other; commits."""
    talk = await session.get(Conversation, person_id) or Conversation(
        person_id=person_id, flow=flow
    )
    talk.flow, talk.state, talk.updated_at = flow, dict(state), utcnow()
    session.add(talk)
    await session.commit()


async def current(session: AsyncSession, person_id: int | None, flow: str) -> dict[str, Any] | None:
    """The state of `flow` if the person is in it, and ends it (the caller handles this step;
    a next step begins again). None if they are not, or left it too long ago."""
    talk = None if person_id is None else await session.get(Conversation, person_id)
    if talk is None or talk.flow != flow:
        return None
    await session.delete(talk)
    await session.flush()
    return None if utcnow() - talk.updated_at > TTL else dict(talk.state)


async def end(session: AsyncSession, person_id: int) -> bool:
    """Leave whatever flow the person is in (/huy); False if they were in none. Commits."""
    talk = await session.get(Conversation, person_id)
    if talk is None:
        return False
    await session.delete(talk)
    await session.commit()
    return utcnow() - talk.updated_at <= TTL


async def step(ctx: Context, flow: str, action: Action | None = None) -> dict[str, Any] | None:
    """What a flow's next typed step needs first: the person writing, still allowed `action`
    (`ctx.person`, `ctx.scope`), and the state of `flow` they are in, that step now ended (a
    next step begins again). None when they are not in it, or may no longer do it."""
    if not await ctx.authorize(action):
        return None
    async with ctx.db.session() as session:
        state = await current(session, ctx.person_id, flow)
        await session.commit()
    return state


async def flow_of(ctx: Context) -> str | None:
    """The flow the person writing is in, if any (its step is left for the flow to take)."""
    if ctx.event.user is None:
        return None
    async with ctx.db.reading() as conn:
        query = (
            select(Conversation.flow)
            .join(Person, col(Person.id) == Conversation.person_id)
            .where(
                Person.platform == ctx.event.platform.value,
                Person.platform_user_id == ctx.event.user.id,
            )
        )
        return (await conn.execute(query)).scalar_one_or_none()
