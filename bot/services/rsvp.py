"""Club notices' RSVPs: the counts a school's staff see (/dangky), and the reminder a day
before the session to those who said yes (a scheduler sweep that enqueues).

An RSVP post is an occurrence whose `meta` has options and no right answer; `meta["yes"]` is
the option that means "will come", `meta["session_at"]` (UTC, ISO) when the session is
(content/campaign/schema.Rsvp.session_after)."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Final

from sqlalchemy import func
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.services.broadcasts import Broadcast, enqueue
from bot.services.feedback import ARRIVED
from bot.services.people import private_chat
from bot.storage.db import Database
from bot.storage.models import Chat, Delivery, Feedback, Occurrence, Person, utcnow
from content.templates import Templates

RSVP = "rsvp"
RECENT: Final = timedelta(days=30)  # /dangky shows the notices of the last 30 days
REMIND_BEFORE: Final = timedelta(days=1)
SWEEP: Final = timedelta(minutes=15)


def is_rsvp(meta: dict[str, Any] | None) -> bool:
    return meta is not None and isinstance(meta.get("options"), list) and "answer" not in meta


def session_at(meta: dict[str, Any]) -> datetime | None:
    raw = meta.get("session_at")
    try:
        return datetime.fromisoformat(raw) if isinstance(raw, str) else None
    except ValueError:
        return None


@dataclass(frozen=True)
class Line:
    """One club notice: its options with how many people chose each, in the units asked."""

    title: str
    due_at: datetime
    session_at: datetime | None
    options: list[tuple[str, int]]
    groups: int  # groups of the units it reached


async def counts(
    session: AsyncSession, units: Collection[int], now: datetime | None = None
) -> list[Line]:
    """The RSVP notices of the last 30 days delivered to groups of `units`, newest first."""
    now = now or utcnow()
    reached = (
        select(Occurrence, func.count(func.distinct(Chat.id)))
        .join(Delivery, col(Delivery.occurrence_id) == Occurrence.id)
        .join(Chat, col(Chat.id) == Delivery.chat_id)
        .where(
            col(Chat.unit_id).in_(list(units)),
            col(Delivery.status).in_(ARRIVED),
            col(Occurrence.due_at) >= now - RECENT,
        )
        .group_by(col(Occurrence.id))
        .order_by(col(Occurrence.due_at).desc())
    )
    lines = []
    for occurrence, groups in (await session.exec(reached)).all():
        if not is_rsvp(occurrence.meta):
            continue
        chosen = await session.exec(
            select(Feedback.value, func.count())
            .join(Chat, col(Chat.id) == Feedback.chat_id)
            .where(
                Feedback.occurrence_id == occurrence.id,
                Feedback.kind == RSVP,
                col(Chat.unit_id).in_(list(units)),
            )
            .group_by(col(Feedback.value))
        )
        by_value = {value: int(n) for value, n in chosen.all()}
        options = [str(o) for o in occurrence.meta["options"]]
        lines.append(
            Line(
                title=occurrence.title,
                due_at=occurrence.due_at,
                session_at=session_at(occurrence.meta),
                options=[(label, by_value.get(str(i), 0)) for i, label in enumerate(options)],
                groups=int(groups),
            )
        )
    return lines


async def remind(db: Database, templates: Templates, now: datetime | None = None) -> int:
    """Enqueue, for every RSVP session starting within a day, a reminder to the private chat
    of each person whose answer is yes and who has a private chat with loa (a bot cannot
    write first). Idempotent on the occurrence's key; a yes given after an earlier run is
    added to it. Returns the reminders enqueued (new or grown)."""
    now = now or utcnow()
    async with db.session() as session:
        recent = await session.exec(
            select(Occurrence).where(
                col(Occurrence.due_at) >= now - timedelta(days=60),
                col(Occurrence.missed_at).is_(None),
            )
        )
        due: list[tuple[Occurrence, datetime]] = []
        for occurrence in recent.all():
            when = session_at(occurrence.meta) if is_rsvp(occurrence.meta) else None
            if when is not None and when - REMIND_BEFORE <= now < when:
                due.append((occurrence, when))
        plans: list[tuple[Broadcast, list[int]]] = []
        for occurrence, when in due:
            yes = str(occurrence.meta.get("yes", 0))
            people = await session.exec(
                select(Person)
                .join(Feedback, col(Feedback.person_id) == Person.id)
                .where(
                    Feedback.occurrence_id == occurrence.id,
                    Feedback.kind == RSVP,
                    Feedback.value == yes,
                    col(Person.notice_at).is_not(None),
                )
            )
            chats = [await private_chat(session, p) for p in people.all()]
            if not chats:
                continue
            options = occurrence.meta["options"]
            option = str(options[int(yes)]) if int(yes) < len(options) else ""
            text = templates.render(
                "rsvp_reminder", title=occurrence.title, option=option, session_at=when
            )
            plans.append(
                (
                    Broadcast(
                        key=f"rsvp:{occurrence.id}:reminder",
                        title=f"Nhắc lịch: {occurrence.title}"[:255],
                        text=text,
                        due_at=now,
                        valid_until=when,
                        kind="reminder",
                        source=f"rsvp:{occurrence.id}",
                    ),
                    chats,
                )
            )
        await session.commit()  # the private chats made on the way
    for broadcast, chats in plans:
        await enqueue(db, broadcast, chats)
    return len(plans)
