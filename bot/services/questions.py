"""Questions and suggestions from parents and the community to a school (or, where no school
is theirs, to the ward): where one goes, who answers it, what is overdue.

Every function here is what the chat handlers (handlers/questions.py) and a web page call
alike: `list_for` a scope, `answer`, `mark_handled`, `overdue` and `escalate`. Status moves
only here, each move one conditional UPDATE (open → answered | handled), so two staff
answering at once cannot both win.

Where a question goes: a group's unit (a class's school) when it was written in a group; in
private, the unit of the asker's own non-staff role (a parent of class 1A), else of the private
chat itself where it is bound (a Zalo OA follower's), else of the group they last answered a
post in. A unit under a school goes to the school's staff; a unit above
schools (a ward, a residential group) to the ward's officials.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Final

import sqlalchemy as sa
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.domain import Button, ChatType
from bot.services import labels
from bot.services.broadcasts import Broadcast, enqueue
from bot.services.people import private_chat
from bot.services.permissions import OFFICIAL, STAFF, Action, scope
from bot.services.units import school_of, subtree_ids
from bot.storage.db import Database
from bot.storage.models import (
    Chat,
    Feedback,
    FeedbackItem,
    ItemKind,
    ItemStatus,
    Person,
    Role,
    RoleName,
    Unit,
    table_of,
    utcnow,
)
from content.templates import Templates

MIN_TEXT, MAX_TEXT = 2, 2000
REMIND_AFTER: Final = timedelta(hours=48)
ESCALATE_AFTER: Final = timedelta(hours=96)
SWEEP: Final = timedelta(minutes=15)  # how often the scheduler looks for overdue questions
PREFIX = "q"  # button data "q:<id>:a" (answer) and "q:<id>:h" (mark handled)
SCHOOL_STAFF: Final = (RoleName.SCHOOL_ADMIN, RoleName.TEACHER)
# Groups whose members' private questions go to the group's unit (not staff groups).
ASKING_AUDIENCES: Final = ["parents", "students", "community"]


def cleaned(text: str | None) -> str:
    """What was typed, whitespace collapsed (the length limits apply to this)."""
    return " ".join((text or "").split())


async def unit_of_chat(session: AsyncSession, platform: str, platform_chat_id: str) -> Chat | None:
    query = select(Chat).where(Chat.platform == platform, Chat.platform_chat_id == platform_chat_id)
    return (await session.exec(query)).first()


async def home_of(session: AsyncSession, person_id: int, here: Chat | None = None) -> int | None:
    """The unit a person's private question is for: their own non-staff role's unit, else
    the unit the private chat `here` is bound to for parents (students, community) — a Zalo
    OA follower's chat is bound like a group — else the unit of the parents' (students',
    community) group they last answered a post in; None when loa cannot tell."""
    own = await session.exec(
        select(Role.unit_id)
        .where(
            Role.person_id == person_id, col(Role.role).in_([RoleName.PARENT, RoleName.COMMUNITY])
        )
        .order_by(col(Role.granted_at).desc())
    )
    if (unit := own.first()) is not None:
        return unit
    if here is not None and here.unit_id is not None and here.audience in ASKING_AUDIENCES:
        return here.unit_id
    answered = await session.exec(
        select(Chat.unit_id)
        .join(Feedback, col(Feedback.chat_id) == Chat.id)
        .where(
            Feedback.person_id == person_id,
            col(Chat.unit_id).is_not(None),
            col(Chat.audience).in_(ASKING_AUDIENCES),
        )
        .order_by(col(Feedback.created_at).desc())
    )
    return answered.first()


async def is_staff(session: AsyncSession, person_id: int) -> bool:
    """Whether the person holds a staff role anywhere (their free text is not a question)."""
    query = select(Role.id).where(Role.person_id == person_id, col(Role.role).in_(list(STAFF)))
    return (await session.exec(query)).first() is not None


async def target_of(session: AsyncSession, unit_id: int) -> int:
    """The unit that answers for `unit_id`: its school, or itself above schools."""
    return await school_of(session, unit_id) or unit_id


async def ask(
    session: AsyncSession,
    *,
    person_id: int,
    unit_id: int,
    text: str,
    chat_id: int | None = None,
    message_id: str | None = None,
) -> FeedbackItem:
    """Record a question for the unit that answers for `unit_id`; commits."""
    item = FeedbackItem(
        kind=ItemKind.QUESTION,
        person_id=person_id,
        chat_id=chat_id,
        message_id=message_id,
        unit_id=await target_of(session, unit_id),
        text=text[:MAX_TEXT],
    )
    session.add(await labels.stamp(item))
    await session.commit()
    return item


async def answerers(
    session: AsyncSession, unit_id: int, platform: str | None = None
) -> list[Person]:
    """Who is told of a question for `unit_id` (on `platform`, or on every platform: a teacher
    on Telegram answers a parent on Zalo): a school's admins and teachers; above schools, or at
    a school with nobody on loa yet, the officials over it."""
    people: Sequence[Person] = []
    if await school_of(session, unit_id) == unit_id:
        inside = await subtree_ids(session, [unit_id])
        people = (
            await session.exec(
                select(Person)
                .join(Role, col(Role.person_id) == Person.id)
                .where(
                    col(Role.unit_id).in_(inside),
                    col(Role.role).in_(list(SCHOOL_STAFF)),
                    *_on(platform),
                )
                .distinct()
            )
        ).all()
    if not people:
        people = await officials_over(session, unit_id, platform)
    return sorted(people, key=lambda p: p.id or 0)


async def officials_over(
    session: AsyncSession, unit_id: int, platform: str | None = None
) -> list[Person]:
    """The officials (on `platform`, or on every one) whose scope holds `unit_id`."""
    query = (
        select(Person)
        .join(Role, col(Role.person_id) == Person.id)
        .where(Role.role == OFFICIAL, *_on(platform))
        .distinct()
    )
    return [
        p
        for p in (await session.exec(query)).all()
        if unit_id in await scope(session, p.id, Action.ANSWER_QUESTION)
    ]


def _on(platform: str | None) -> list[Any]:
    return [] if platform is None else [Person.platform == platform]


@dataclass(frozen=True)
class Destination:
    """Where an answer goes: the asker's private chat, or the group, as a reply there."""

    platform: str
    chat_id: str
    reply_to: str | None


async def destination(session: AsyncSession, item: FeedbackItem) -> Destination | None:
    """None when the asker erased their data (a private question has nowhere to go)."""
    chat = None if item.chat_id is None else await session.get(Chat, item.chat_id)
    if chat is not None and chat.type == ChatType.GROUP and chat.active:
        return Destination(chat.platform, chat.platform_chat_id, item.message_id)
    asker = None if item.person_id is None else await session.get(Person, item.person_id)
    if asker is None:
        return None
    return Destination(asker.platform, asker.platform_user_id, None)


async def list_for(
    session: AsyncSession,
    units: Collection[int],
    status: ItemStatus | None = ItemStatus.OPEN,
    kind: ItemKind = ItemKind.QUESTION,
) -> list[FeedbackItem]:
    """The items of the units of a scope (ANSWER_QUESTION's), oldest first."""
    query = select(FeedbackItem).where(
        FeedbackItem.kind == kind, col(FeedbackItem.unit_id).in_(list(units))
    )
    if status is not None:
        query = query.where(FeedbackItem.status == status)
    return list((await session.exec(query.order_by(col(FeedbackItem.created_at)))).all())


async def close(
    session: AsyncSession,
    item_id: int,
    staff_id: int,
    text: str,
    units: Collection[int] | None,
    status: ItemStatus,
    kind: ItemKind = ItemKind.QUESTION,
) -> FeedbackItem | None:
    """Move an open item of a unit in `units` (None: of any unit, the caller checked) to
    `status` with `text` (the answer, or why it was handled); None if it is not open any
    more, or not the staff's to close. Commits."""
    items = table_of(FeedbackItem)
    moved = (
        update(items)
        .where(items.c.id == item_id, items.c.kind == kind, items.c.status == ItemStatus.OPEN)
        .values(status=status, answer=text, answered_by=staff_id, answered_at=utcnow())
        .returning(items.c.id)
    )
    if units is not None:
        moved = moved.where(items.c.unit_id.in_(list(units)))
    won = (await session.exec(moved)).first() is not None
    await session.commit()
    return await session.get(FeedbackItem, item_id, populate_existing=True) if won else None


async def answer(
    session: AsyncSession, item_id: int, staff_id: int, text: str, units: Collection[int]
) -> FeedbackItem | None:
    return await close(session, item_id, staff_id, text, units, ItemStatus.ANSWERED)


async def mark_handled(
    session: AsyncSession, item_id: int, staff_id: int, reason: str, units: Collection[int]
) -> FeedbackItem | None:
    return await close(session, item_id, staff_id, reason, units, ItemStatus.HANDLED)


async def overdue(
    session: AsyncSession, units: Collection[int], now: datetime | None = None
) -> list[FeedbackItem]:
    """Open questions of `units` unanswered past ESCALATE_AFTER: what officials are shown."""
    cutoff = (now or utcnow()) - ESCALATE_AFTER
    return [i for i in await list_for(session, units) if i.created_at <= cutoff]


def buttons(templates: Templates, item_id: int) -> tuple[Button, ...]:
    return tuple(
        Button(templates.render_plain("question_button", op=op), f"{PREFIX}:{item_id}:{op}")
        for op in ("a", "h")
    )


async def escalate(
    db: Database, templates: Templates, now: datetime | None = None
) -> dict[str, int]:
    """Remind the school of questions open past 48 h, and show officials those open past
    96 h, each once, through the outbox (private chats of the people told): the scheduler's
    job. Returns how many questions were reminded and escalated."""
    now = now or utcnow()
    done = {"reminded": 0, "escalated": 0}
    marks: list[tuple[int, str]] = []
    async with db.session() as session:
        due = (
            await session.exec(
                select(FeedbackItem).where(
                    FeedbackItem.kind == ItemKind.QUESTION,
                    FeedbackItem.status == ItemStatus.OPEN,
                    col(FeedbackItem.created_at) <= now - REMIND_AFTER,
                    col(FeedbackItem.escalated_at).is_(None),
                )
            )
        ).all()
        plans: list[tuple[Broadcast, list[int]]] = []
        for item in due:
            assert item.id is not None and item.unit_id is not None
            late = item.created_at <= now - ESCALATE_AFTER
            if not late and item.reminded_at is not None:
                continue
            step = "escalated" if late else "reminded"
            people = (
                await officials_over(session, item.unit_id)
                if late
                else await answerers(session, item.unit_id)
            )
            unit = await session.get(Unit, item.unit_id)
            chats = [await private_chat(session, p) for p in people]
            text = templates.render(
                "question_overdue", item=item, unit=unit.name if unit else "", late=late
            )
            plans.append(
                (
                    Broadcast(
                        key=f"question:{item.id}:{step}",
                        title=f"Câu hỏi số {item.id} chưa được trả lời",
                        text=text,
                        buttons=buttons(templates, item.id),
                        due_at=now,
                        urgent=True,
                        kind="question_reminder",
                        source=f"question:{item.id}",
                    ),
                    chats,
                )
            )
            marks.append((item.id, "escalated_at" if late else "reminded_at"))
            done[step] += 1
        await session.commit()  # the private chats made on the way
    # Enqueued before marked: a crash in between enqueues again, which finds the same key.
    for broadcast, chats in plans:
        await enqueue(db, broadcast, chats)
    items = table_of(FeedbackItem)
    async with db.session() as session:
        for item_id, column in marks:
            await session.exec(update(items).where(items.c.id == item_id).values({column: now}))
        await session.commit()
    return done


@dataclass(frozen=True)
class Pending:
    """Questions still open in some units, and how many of them are overdue (past 96 h)."""

    open: int
    overdue: int


def _open_in(
    units: Collection[int] | None, since: datetime | None, until: datetime | None
) -> list[Any]:
    """The conditions of an open question of `units` (None: any), asked in [since, until)."""
    t = table_of(FeedbackItem)
    where = [t.c.kind == ItemKind.QUESTION.value, t.c.status == ItemStatus.OPEN.value]
    if units is not None:
        where.append(t.c.unit_id.in_(list(units)))
    if since is not None:
        where.append(t.c.created_at >= since)
    if until is not None:
        where.append(t.c.created_at < until)
    return where


async def pending(
    conn: AsyncConnection,
    units: Collection[int] | None,
    now: datetime,
    since: datetime | None = None,
    until: datetime | None = None,
) -> Pending:
    """How many questions of `units` asked in [since, until) are open at `now`, and overdue:
    one aggregate in the database (the `ix_feedback_items_open` index)."""
    t = table_of(FeedbackItem)
    late = sa.case((t.c.created_at <= now - ESCALATE_AFTER, 1), else_=0)
    query = sa.select(sa.func.count(), sa.func.coalesce(sa.func.sum(late), 0)).where(
        *_open_in(units, since, until)
    )
    found, overdue_ = (await conn.execute(query)).one()
    return Pending(int(found), int(overdue_))


async def still_open(
    conn: AsyncConnection,
    units: Collection[int] | None,
    since: datetime | None = None,
    until: datetime | None = None,
) -> list[tuple[int, datetime, str | None, str | None, str | None]]:
    """The open questions of `units` asked in [since, until), oldest first: id, asked at, the
    unit's name, the audience of the group it was asked in (None: in private), the text."""
    t, u, c = table_of(FeedbackItem), table_of(Unit), table_of(Chat)
    query = (
        sa.select(t.c.id, t.c.created_at, u.c.name, c.c.audience, t.c.text)
        .select_from(t.outerjoin(u, u.c.id == t.c.unit_id).outerjoin(c, c.c.id == t.c.chat_id))
        .where(*_open_in(units, since, until))
        .order_by(t.c.created_at, t.c.id)
    )
    return [tuple(row) for row in (await conn.execute(query)).all()]
