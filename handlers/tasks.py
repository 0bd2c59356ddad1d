"""Answers to task reminders ("06 rõ"): a tap gives the status ("task:<task id>:<status>"), an
optional next message the details; both are stored as the task's result, with who gave it."""

from __future__ import annotations

from bot.services.permissions import Action, may
from bot.services.tasks import STATUSES
from bot.storage.models import Task, utcnow
from handlers import conversation
from handlers.people import find_person
from handlers.router import Context, Router

PREFIX = "task"
FLOW = "task_result"
MAX_DETAILS = 2000


async def answered(ctx: Context) -> None:
    number, _, status = ctx.args.partition(":")
    if not number.isdigit() or status not in STATUSES:
        await ctx.answer_button("task_refused", reason="stale")
        return
    label = ctx.templates.render_plain("task_button", status=status)
    async with ctx.db.session() as session:
        task = await session.get(Task, int(number))
        person = await find_person(session, ctx.event.platform, ctx.event.user)
        if task is None or task.owner_unit_id is None or person is None or person.id is None:
            await ctx.answer_button("task_refused", reason="stale")
            return
        if not await may(session, person.id, Action.REPORT_TASK, task.owner_unit_id):
            await ctx.answer_button("task_refused", reason="forbidden")
            return
        task.result, task.result_by, task.result_at = label, person.id, utcnow()
        session.add(task)
        await conversation.begin(session, person.id, FLOW, task=task.id)
    await ctx.answer_button()
    await ctx.reply("task_answered", status=status, label=label, title=task.title)


async def on_text(ctx: Context) -> bool:
    """The details after a status tap; False if the person owes none."""
    async with ctx.db.session() as session:
        person = await find_person(session, ctx.event.platform, ctx.event.user)
        state = await conversation.current(session, person.id if person else None, FLOW)
        task = None if state is None else await session.get(Task, state.get("task", -1))
        if task is None:
            await session.commit()
            return False
        details = " ".join((ctx.event.text or "").split())[:MAX_DETAILS]
        task.result = f"{task.result or ''}: {details}".lstrip(": ")
        task.result_at = utcnow()
        session.add(task)
        await session.commit()
    await ctx.reply("task_answered", status="details", label="", title=task.title)
    return True


def router() -> Router:
    r = Router()
    r.button(PREFIX)(answered)
    return r
