"""Campaign posts as occurrences the scheduler runs: one per (post, due time, audience).

What goes out is decided at start (rendered text, buttons, due time); who receives it is
decided when it fires, so a group bound after start still gets it.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Protocol

from sqlalchemy.exc import IntegrityError
from sqlmodel import col, select

from bot.services import units
from bot.services.broadcasts import Broadcast
from bot.storage.db import Database
from bot.storage.models import CampaignSeen, Occurrence
from content.blackouts import Blackouts, due_times, load_blackouts
from content.campaign.check import load_campaigns
from content.campaign.render import render
from content.campaign.schema import VN, Campaign, Post
from content.templates import Templates

# At start, occurrences due longer ago than this, or before this database first loaded their
# campaign, are history and left alone; the others beyond the misfire grace with no row yet
# are recorded as missed.
LOOKBACK = timedelta(days=7)
_CHUNK = 500
Targets = Callable[[], Awaitable[list[int]]]
log = logging.getLogger(__name__)


class Schedules(Protocol):
    """What runs occurrences at their time (scheduler.runner.Scheduler)."""

    def broadcast_at(self, broadcast: Broadcast, chats: Targets) -> None: ...


@dataclass(frozen=True)
class Planned:
    """One firing of a campaign post for one audience."""

    broadcast: Broadcast
    audience: str
    units: tuple[str, ...] | None  # unit codes (with everything below them); None: all units
    campaign: str = ""


async def schedule_all(
    db: Database, scheduler: Schedules, folder: Path, templates: Templates, now: datetime
) -> list[Planned]:
    """Hand `scheduler` every occurrence of the campaigns in a content folder that has no row
    yet. Run at each start: job ids are occurrence keys, so the jobs are rebuilt, not doubled."""
    loaded, _ = load_campaigns(folder)  # check_content reports the files that do not load
    planned = plan([item.campaign for item in loaded], templates, load_blackouts(folder))
    seen = await first_seen(db, {p.campaign for p in planned}, now)
    pending = await to_schedule(db, planned, now, since=seen)
    for item in pending:
        scheduler.broadcast_at(item.broadcast, targets(db, item.audience, item.units))
    log.info("scheduled %d of %d campaign occurrences", len(pending), len(planned))
    return pending


def occurrence_key(campaign: Campaign, post: Post, due: datetime, audience: str) -> str:
    """Stable across restarts: ids and the due time as written (Vietnam time), to the minute.
    Slugs are ≤48 characters, so the key stays far below the column's 200."""
    return f"c:{campaign.id}:{post.id}:{due.astimezone(VN):%Y%m%dT%H%M}:{audience}"


def plan(
    campaigns: Iterable[Campaign], templates: Templates, blackouts: Blackouts
) -> list[Planned]:
    """Every occurrence of every post of `campaigns`, in due order."""
    planned: list[Planned] = []
    for campaign in campaigns:
        for post in campaign.posts:
            for audience in (a.value for a in post.audiences):
                shown = render(templates, post, audience)
                for due in due_times(post, blackouts):
                    broadcast = Broadcast(
                        key=occurrence_key(campaign, post, due, audience),
                        title=f"{campaign.title} ({post.id})"[:255],
                        text=shown.text,
                        buttons=shown.buttons,
                        due_at=due,
                        valid_until=_valid_until(post, due),
                        kind=post.kind.value,
                        meta=answer_meta(post, due),
                        source=f"campaign:{campaign.id}/{post.id}",
                    )
                    codes = None if post.units == "all" else tuple(post.units)
                    planned.append(Planned(broadcast, audience, codes, campaign.id))
    return sorted(planned, key=lambda p: (p.broadcast.due_at, p.broadcast.key))


async def first_seen(db: Database, campaigns: set[str], now: datetime) -> dict[str, datetime]:
    """When this database first loaded each campaign; `now` for those it had not."""
    query = select(CampaignSeen).where(col(CampaignSeen.campaign).in_(campaigns))
    async with db.session() as session:
        seen = {row.campaign: row.first_seen_at for row in (await session.exec(query)).all()}
        for campaign in campaigns - set(seen):
            session.add(CampaignSeen(campaign=campaign, first_seen_at=now))
            seen[campaign] = now
        try:
            await session.commit()
        except IntegrityError:  # another process loaded it at the same moment: keep its time
            await session.rollback()
            return {row.campaign: row.first_seen_at for row in (await session.exec(query)).all()}
    return seen


async def to_schedule(
    db: Database,
    planned: Sequence[Planned],
    now: datetime,
    lookback: timedelta = LOOKBACK,
    since: Mapping[str, datetime] | None = None,
) -> list[Planned]:
    """The occurrences the scheduler should hold: no row yet (neither enqueued nor recorded
    missed), due after `now - lookback` and not before their campaign was first loaded
    (`since`, by campaign id). Those already beyond the misfire grace are reported missed by
    the scheduler as soon as it runs them."""
    since = since or {}
    recent = [
        p
        for p in planned
        if p.broadcast.due_at > now - lookback
        and (p.campaign not in since or p.broadcast.due_at >= since[p.campaign])
    ]
    keys = [p.broadcast.key for p in recent]
    known: set[str] = set()
    async with db.session() as session:
        for start in range(0, len(keys), _CHUNK):
            query = select(Occurrence.key).where(
                col(Occurrence.key).in_(keys[start : start + _CHUNK])
            )
            known.update((await session.exec(query)).all())
    return [p for p in recent if p.broadcast.key not in known]


def targets(db: Database, audience: str, unit_codes: tuple[str, ...] | None) -> Targets:
    """What the scheduler calls when the occurrence fires: the chats it goes to then."""

    async def resolve() -> list[int]:
        return await chats_for(db, audience, unit_codes)

    return resolve


async def chats_for(db: Database, audience: str, unit_codes: tuple[str, ...] | None) -> list[int]:
    """Active chats of `audience` in the units (and below them); every such chat for None.
    A chat has an audience only once it is bound, so `None` means every bound chat."""
    async with db.session() as session:
        roots = None
        if unit_codes is not None:
            roots = list((await units.ids_by_code(session, unit_codes)).values())
        return await units.bound_chats(session, [audience], roots)


def _valid_until(post: Post, due: datetime) -> datetime | None:
    if post.valid_for is not None:
        return due + timedelta(hours=post.valid_for)
    return post.valid_until


def answer_meta(post: Post, due: datetime) -> dict[str, Any]:
    """What the answers of the occurrence due at `due` mean (handlers/answers.py)."""
    if post.quiz is not None:
        quiz = post.quiz
        meta: dict[str, Any] = {"answer": quiz.answer, "options": list(quiz.options)}
        if quiz.explanation:
            meta |= {"question": quiz.question, "explanation": quiz.explanation}
        return meta
    if post.rsvp is not None:
        meta = {"options": list(post.rsvp.options)}
        if post.rsvp.session_after is not None:  # what the reminder needs (bot/services/rsvp)
            session = due + timedelta(hours=post.rsvp.session_after)
            meta |= {"yes": post.rsvp.yes, "session_at": session.astimezone(UTC).isoformat()}
        return meta
    return {}
