"""Answers to task reminders ("06 rõ"): a tap gives the status ("task:<task id>:<status>"), an
optional next message the details. Every answer is kept with who gave it; the latest is the
task's result, and whoever gave a different answer before is told."""

from __future__ import annotations

from bot.dispatch import Context, Router
from bot.services.permissions import Action
from bot.services.tasks import overview, record_answer
from bot.storage.models import Task, TaskAnswer, TaskStatus
from handlers import conversation

PREFIX = "task"
FLOW = "task_result"
MAX_DETAILS = 2000


async def answered(ctx: Context) -> None:
    number, _, typed = ctx.args.partition(":")
    if not number.isdigit() or typed not in set(TaskStatus):
        ctx.answer_button("task_refused", reason="stale")
        return
    status = TaskStatus(typed)
    label = ctx.label("task_button", status=status)
    async with ctx.db.session() as session:
        task = await session.get(Task, int(number))
        if task is None or task.owner_unit_id is None:
            ctx.answer_button("task_refused", reason="stale")
            return
        if task.owner_unit_id not in ctx.scope:
            ctx.answer_button("task_refused", reason="forbidden")
            return
        answer, replaced = await record_answer(session, task, ctx.person_id, status)
        await conversation.begin(session, ctx.person_id, FLOW, answer=answer.id)
    ctx.answer_button()
    ctx.reply("task_answered", status=status, label=label, title=task.title)
    if replaced is not None and replaced.platform == ctx.event.platform:
        by = ctx.person.display_name if ctx.person else ""
        ctx.send_to(
            replaced.platform_user_id, "task_answered", status="replaced", label=label,
            title=task.title, by=by,
        )  # fmt: skip


async def on_text(ctx: Context) -> bool:
    """The details after a status tap; False if the person owes none."""
    state = await conversation.step(ctx, FLOW)
    if state is None:
        return False
    async with ctx.db.session() as session:
        answer = await session.get(TaskAnswer, state.get("answer", -1))
        task = None if answer is None else await session.get(Task, answer.task_id)
        if answer is None or task is None:
            await session.commit()
            return False
        answer.details = " ".join((ctx.event.text or "").split())[:MAX_DETAILS]
        session.add(answer)
        await session.commit()
    ctx.reply("task_answered", status="details", label="", title=task.title)
    return True


async def list_tasks(ctx: Context) -> None:
    """/viec: the plan's tasks of the person's units, their latest answer, and the ones whose
    reminder reaches nobody yet (no staff who can answer in that unit)."""
    async with ctx.db.session() as session:
        lines = await overview(session, ctx.scope)
    ctx.reply("tasks_list", lines=lines)


def router() -> Router:
    r = Router()
    r.command("viec", private=True, action=Action.LIST_UNITS)(list_tasks)
    r.button(PREFIX, action=Action.REPORT_TASK, refusal="task_refused")(answered)
    return r
