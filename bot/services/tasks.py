"""Task reminders ("06 rõ"): every plan duty with a deadline becomes a Task; before the deadline
its owner unit's staff get a reminder in private chat with buttons for the result, and what
they answer is stored as the task's result.

A reminder is an occurrence like any post (key "task:<task key>"), so it goes through the
outbox with its guarantees; its chats are the staff's private chats, resolved when it fires.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Collection
from dataclasses import dataclass, replace
from datetime import datetime, time, timedelta
from pathlib import Path

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.domain import Button
from bot.services import units
from bot.services.broadcasts import Broadcast, enqueue
from bot.services.campaigns import Schedules, Targets
from bot.services.people import private_chat
from bot.services.permissions import STAFF, Action, may
from bot.storage.db import Database
from bot.storage.models import (
    Occurrence,
    Person,
    Role,
    Task,
    TaskAnswer,
    TaskStatus,
    Unit,
    utcnow,
)
from bot.text import fold
from content.campaign.check import load_plans
from content.campaign.schema import VN
from content.plans import Plan
from content.templates import Templates

log = logging.getLogger(__name__)
REMIND_AT = time(8, 0)  # Vietnam time, on the reminder day


def task_key(plan: Plan, what: str) -> str:
    """Stable while the duty's text is: reordering duties keeps their tasks."""
    return f"{plan.id}:{hashlib.sha1(what.encode()).hexdigest()[:12]}"


async def sync_tasks(db: Database, plans: list[Plan]) -> list[tuple[Task, int]]:
    """Upsert a Task for every duty with a deadline; returns them with their days of notice.
    Results already given are kept."""
    async with db.session() as session:
        everything = (await session.exec(select(Unit).where(col(Unit.active)))).all()
        by_code = {u.code: u.id for u in everything}
        by_name: dict[str, list[int | None]] = {}
        for unit in everything:
            by_name.setdefault(fold(unit.name), []).append(unit.id)
        tasks = []
        for plan in plans:
            for duty in plan.duties:
                if duty.deadline is None:
                    continue
                key = task_key(plan, duty.what)
                named = by_name.get(fold(duty.owner), [])
                owner = by_code.get(duty.owner_unit) if duty.owner_unit else None
                owner = owner or (named[0] if len(named) == 1 else None)
                task = (await session.exec(select(Task).where(Task.key == key))).first()
                task = task or Task(key=key, plan=plan.id, title="")
                task.title, task.owner_unit_id = duty.what, owner
                task.deadline = datetime.combine(duty.deadline, time(23, 59), tzinfo=VN)
                task.expected_result = duty.result or ""
                session.add(task)
                tasks.append((task, duty.remind_days_before))
        await session.commit()
    unowned = sum(1 for task, _ in tasks if task.owner_unit_id is None)
    if unowned:
        log.warning("%d task(s) with a deadline match no unit: give them owner_unit", unowned)
    return tasks


def reminder_key(task: Task) -> str:
    return f"task:{task.key}"


def reminder(task: Task, days_before: int, templates: Templates) -> Broadcast:
    assert task.id is not None and task.deadline is not None
    deadline = task.deadline.astimezone(VN)
    due = datetime.combine(deadline.date() - timedelta(days=days_before), REMIND_AT, tzinfo=VN)
    labels = [templates.render_plain("task_button", status=s) for s in TaskStatus]
    return Broadcast(
        key=reminder_key(task),
        title=f"Nhắc việc: {task.title}"[:255],
        text=templates.render("task_reminder", task=task),
        buttons=tuple(
            Button(label, f"task:{task.id}:{s}")
            for label, s in zip(labels, TaskStatus, strict=True)
        ),
        due_at=due,
        valid_until=task.deadline,
        kind="reminder",
        source=f"task:{task.id}",
    )


async def staff_of(session: AsyncSession, unit_id: int) -> list[Person]:
    """People holding a staff role in the unit or below it who may answer for the unit (a
    ward's task goes to its officials, not to every teacher of its schools)."""
    inside = await units.subtree_ids(session, [unit_id])
    query = (
        select(Person)
        .join(Role, col(Role.person_id) == Person.id)
        .where(col(Role.unit_id).in_(inside), col(Role.role).in_(list(STAFF)))
        .distinct()
    )
    people = (await session.exec(query)).all()
    return [p for p in people if await may(session, p.id, Action.REPORT_TASK, unit_id)]


def recipients(db: Database, task_id: int) -> Targets:
    """The private chats of the owner unit's staff when the reminder fires (rows for private
    chats are made on the way: a private chat's id is its person's id on both platforms)."""

    async def resolve() -> list[int]:
        async with db.session() as session:
            task = await session.get(Task, task_id)
            if task is None or task.owner_unit_id is None:
                return []
            chat_ids = []
            for person in await staff_of(session, task.owner_unit_id):
                chat_ids.append(await private_chat(session, person))
            await session.commit()
            return chat_ids

    return resolve


async def schedule_all(
    db: Database, scheduler: Schedules, folder: Path, templates: Templates, now: datetime
) -> int:
    """Sync tasks from the plans of a content folder and schedule the reminders still to come
    (a reminder day already past, before the deadline, reminds at once)."""
    synced = await sync_tasks(db, list(load_plans(folder).values()))
    async with db.session() as session:  # reminders already enqueued, in one query
        keys = [reminder_key(task) for task, _ in synced]
        sent = set(
            (await session.exec(select(Occurrence.key).where(col(Occurrence.key).in_(keys)))).all()
        )
        answered = set((await session.exec(select(TaskAnswer.task_id).distinct())).all())
    scheduled = 0
    for task, days_before in synced:
        assert task.id is not None and task.deadline is not None
        if task.id in answered or task.deadline <= now or task.owner_unit_id is None:
            continue
        item = reminder(task, days_before, templates)
        if item.key in sent:
            continue
        if item.due_at < now:
            item = replace(item, due_at=now + timedelta(seconds=5))
        scheduler.broadcast_at(item, recipients(db, task.id))
        scheduled += 1
    log.info("scheduled %d task reminder(s)", scheduled)
    return scheduled


async def record_answer(
    session: AsyncSession, task: Task, person_id: int, status: TaskStatus
) -> tuple[TaskAnswer, Person | None]:
    """Keep one more answer to `task` (every answer is kept; the latest is its result), with
    the person whose different answer it replaces, to be told. Flushes, does not commit."""
    query = (
        select(TaskAnswer)
        .where(TaskAnswer.task_id == task.id)
        .order_by(col(TaskAnswer.answered_at).desc(), col(TaskAnswer.id).desc())
    )
    latest = (await session.exec(query)).first()
    assert task.id is not None
    answer = TaskAnswer(task_id=task.id, person_id=person_id, status=status, answered_at=utcnow())
    session.add(answer)
    await session.flush()
    replaced = None
    if latest is not None and latest.person_id not in (None, person_id):
        replaced = await session.get(Person, latest.person_id)
    return answer, replaced


async def catch_up(
    db: Database, templates: Templates, units: Collection[int], now: datetime | None = None
) -> int:
    """Send the reminders of `units`' tasks that already went out to the staff who can receive
    them now and did not get them (a unit with no staff yet, or staff who joined since): a
    reminder waits for someone to receive it until its deadline, unanswered. Returns the
    reminders topped up."""
    now = now or utcnow()
    async with db.session() as session:
        open_tasks = (
            await session.exec(
                select(Task).where(
                    col(Task.deadline) > now,
                    col(Task.owner_unit_id).in_(list(units)),
                    col(Task.id).not_in(select(TaskAnswer.task_id)),
                )
            )
        ).all()
        keys = [reminder_key(task) for task in open_tasks]
        fired = select(Occurrence.key).where(col(Occurrence.key).in_(keys))
        sent = set((await session.exec(fired)).all())
    topped = 0
    for task in open_tasks:
        if reminder_key(task) not in sent or task.id is None:
            continue
        chats = await recipients(db, task.id)()
        await enqueue(db, replace(reminder(task, 0, templates), due_at=now), chats)
        topped += 1
    return topped


async def overview(session: AsyncSession, scope: frozenset[int]) -> list[TaskLine]:
    """The tasks of the units in `scope`, by deadline: the latest answer, and how many staff
    their reminder reached (0 for a duty whose unit nobody can receive it in yet)."""
    query = select(Task).where(col(Task.owner_unit_id).in_(scope)).order_by(col(Task.deadline))
    lines = []
    for task in (await session.exec(query)).all():
        assert task.id is not None and task.owner_unit_id is not None
        latest = (
            await session.exec(
                select(TaskAnswer)
                .where(TaskAnswer.task_id == task.id)
                .order_by(col(TaskAnswer.answered_at).desc(), col(TaskAnswer.id).desc())
            )
        ).first()
        reached = len(await staff_of(session, task.owner_unit_id))
        lines.append(TaskLine(task, latest.status if latest else None, reached, latest))
    return lines


@dataclass(frozen=True, slots=True)
class TaskLine:
    task: Task
    status: str | None  # the latest answer's TaskStatus, None before any
    staff: int  # who can receive its reminder and answer
    answer: TaskAnswer | None = None  # the latest: its details are the result (the dashboard)
