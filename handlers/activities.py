"""/baocao: a teacher, school administrator or official reports an activity of their school
(or ward) in private chat — kind, plan and theme by buttons; day, participants and notes typed —
then sends it from a summary (Gửi / Sửa / Hủy). A sent report stays editable for 24 hours.

The report is an ActivityReport row from the first step; where the person is in the flow is the
Conversation row, so both survive a restart. Button data: "act:<report id>:<op>[:<arg>]" with
k:<kind>, p:<plan id or ->, t:<theme index or ->, n:none (no notes), send, edit, cancel; each
sets what it says, so a tap handled twice leaves the same report.

Evidence (a photo or document of the activity) is a later step: the sandbox and the adapters
carry no files yet.
"""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any

from sqlmodel.ext.asyncio.session import AsyncSession

from bot.dispatch import Context, Router
from bot.domain import Button
from bot.services import activities as service
from bot.services import labels
from bot.services.permissions import Action
from bot.storage.models import ActivityReport, utcnow
from content.campaign.check import load_plans
from content.plans import Plan
from handlers import conversation

PREFIX = "act"
FLOW = "activity"
OTHER = "-"


async def start(ctx: Context) -> None:
    async with ctx.db.session() as session:
        unit = await service.home_unit(session, ctx.scope)
        if unit is None:
            ctx.reply("not_allowed")
            return
        report = ActivityReport(unit_id=unit, person_id=ctx.person_id)
        session.add(report)
        await session.commit()
        assert report.id is not None
        await conversation.begin(session, ctx.person_id, FLOW, step="buttons", report=report.id)
    ctx.reply("activity_ask", step="kind", buttons=_kind_buttons(ctx, report.id))


async def tapped(ctx: Context) -> None:
    number, _, rest = ctx.args.partition(":")
    op, _, arg = rest.partition(":")
    async with ctx.db.session() as session:
        report = await _own(ctx, session, number)
        if report is None:
            return
        assert report.id is not None
        plans = _plans(ctx)
        if op == "k" and arg in service.KINDS:
            report.kind = arg
            step, buttons = "plan", _plan_buttons(ctx, report.id, plans)
        elif op == "p" and (arg == OTHER or arg in plans):
            report.plan, report.theme = (None if arg == OTHER else arg), None
            themes = plans[arg].themes if arg in plans else []
            if themes:
                step, buttons = "theme", _theme_buttons(ctx, report.id, themes)
            else:
                step, buttons = "date", ()
        elif op == "t" and report.plan in plans and _theme(plans[report.plan], arg) is not None:
            report.theme = _theme(plans[report.plan], arg) or None
            step, buttons = "date", ()
        elif op == "n" and arg == "none":
            report.notes = None
            step, buttons = "summary", ()
        elif op in ("send", "edit", "cancel"):
            await _finish(ctx, session, report, op)
            return
        else:
            ctx.answer_button("activity_refused", reason="stale")
            return
        report.updated_at = utcnow()
        session.add(report)
        await session.commit()
        await conversation.begin(
            session, ctx.person_id, FLOW, step="buttons" if buttons else step, report=report.id
        )
        values = _values(report, plans)
    ctx.answer_button()
    if step == "summary":
        ctx.edit("activity_ask", step="notes_none")
        ctx.reply("activity_summary", buttons=_summary_buttons(ctx, report.id), **values)
    else:
        ctx.edit("activity_ask", step=step, buttons=buttons, **values)


async def _finish(ctx: Context, session: AsyncSession, report: ActivityReport, op: str) -> None:
    assert report.id is not None
    values = _values(report, _plans(ctx))
    if op == "edit":
        await conversation.begin(session, ctx.person_id, FLOW, step="buttons", report=report.id)
        ctx.answer_button()
        ctx.reply("activity_ask", step="kind", buttons=_kind_buttons(ctx, report.id))
        return
    if op == "send" and not _complete(report):
        ctx.answer_button("activity_refused", reason="incomplete")
        return
    await conversation.end(session, ctx.person_id)
    if op == "send":
        report.status, report.updated_at = service.SENT, utcnow()
        report.sent_at = report.sent_at or report.updated_at  # an edit does not extend the 24 h
        session.add(await labels.stamp_note(report))
        await session.commit()
        edit = Button(ctx.label("activity_button", kind="edit"), f"{PREFIX}:{report.id}:edit")
        ctx.answer_button()
        ctx.edit("activity_summary", outcome="sent", buttons=(edit,), **values)
        return
    if report.status == service.DRAFT:
        await session.delete(report)
        await session.commit()
    ctx.answer_button()
    ctx.edit("activity_summary", outcome="cancelled", **values)


async def on_text(ctx: Context) -> bool:
    """Typed text that continues a report (its day, participants or notes); False if none."""
    state = await conversation.step(ctx, FLOW, Action.REPORT_ACTIVITY)
    if state is None:
        return False
    async with ctx.db.session() as session:
        report = await session.get(ActivityReport, state.get("report", -1))
        if report is None or not _mine(ctx, report):
            return False
        text, step = ctx.event.text or "", state.get("step")
        ask: dict[str, Any] = {}
        if step == "date":
            today = utcnow().astimezone(ctx.templates.timezone).date()
            day = service.parse_day(text, today)
            if day is None or day > today:
                ask = {"step": "date_future" if day else "date_again"}
            else:
                report.held_on = day
                state = {"step": "count", "index": 0}
        elif step == "count":
            index = int(state.get("index", 0))
            count = service.parse_count(text)
            if count is None:
                ask = {"step": "count_again", "audience": service.PARTICIPANTS[index]}
            else:
                report.participants = {**report.participants, service.PARTICIPANTS[index]: count}
                more = index + 1 < len(service.PARTICIPANTS)
                state = {"step": "count", "index": index + 1} if more else {"step": "notes"}
        elif step == "notes":
            report.notes = " ".join(text.split())[: service.MAX_NOTES] or None
            state = {"step": "summary"}
        else:
            await conversation.begin(session, ctx.person_id, FLOW, **state)
            ctx.reply("activity_ask", step="tap")
            return True
        if ask:
            await conversation.begin(session, ctx.person_id, FLOW, **{**state, "report": report.id})
            ctx.reply("activity_ask", max=service.MAX_PARTICIPANTS, **ask)
            return True
        report.updated_at = utcnow()
        session.add(report)
        await session.commit()
        await conversation.begin(session, ctx.person_id, FLOW, report=report.id, **state)
        values = _values(report, _plans(ctx))
    assert report.id is not None
    if state["step"] == "count":
        audience = service.PARTICIPANTS[state["index"]]
        ctx.reply("activity_ask", step="count", audience=audience, max=service.MAX_PARTICIPANTS)
    elif state["step"] == "notes":
        skip = Button(ctx.label("activity_button", kind="no_notes"), f"{PREFIX}:{report.id}:n:none")
        ctx.reply("activity_ask", step="notes", buttons=(skip,))
    else:
        ctx.reply("activity_summary", buttons=_summary_buttons(ctx, report.id), **values)
    return True


async def _own(ctx: Context, session: AsyncSession, number: str) -> ActivityReport | None:
    """The report a tap is about, if it is the person's, of their unit and still editable;
    else None, the tap answered."""
    report = await session.get(ActivityReport, int(number)) if number.isdigit() else None
    if report is None:
        ctx.answer_button("activity_refused", reason="stale")
    elif not _mine(ctx, report):
        ctx.answer_button("activity_refused", reason="forbidden")
    elif not service.editable(report, utcnow()):
        ctx.answer_button("activity_refused", reason="expired")
    else:
        return report
    return None


def _mine(ctx: Context, report: ActivityReport) -> bool:
    return report.person_id == ctx.person_id and report.unit_id in ctx.scope


def _complete(report: ActivityReport) -> bool:
    return report.kind is not None and report.held_on is not None


def _plans(ctx: Context) -> dict[str, Plan]:
    """The plans of the content folder loa runs with (its templates sit in it)."""
    return _plans_in(ctx.templates.directory.parent)


@functools.cache
def _plans_in(folder: Path) -> dict[str, Plan]:
    """Read once per process, as at start-up: a tap must not parse every plan file again."""
    return load_plans(folder)


def _theme(plan: Plan, arg: str) -> str | None:
    """The theme a tap names: its text, "" for another theme, None if there is no such one."""
    if arg == OTHER:
        return ""
    return plan.themes[int(arg)] if arg.isdigit() and int(arg) < len(plan.themes) else None


def _values(report: ActivityReport, plans: dict[str, Plan]) -> dict[str, Any]:
    plan = plans.get(report.plan or "")
    return {
        "report": report,
        "plan_title": plan.title if plan else None,
        "audiences": service.PARTICIPANTS,
        "max": service.MAX_PARTICIPANTS,
    }


def _button(ctx: Context, number: int, op: str, kind: str, value: object = "") -> Button:
    return Button(ctx.label("activity_button", kind=kind, value=value), f"{PREFIX}:{number}:{op}")


def _kind_buttons(ctx: Context, number: int) -> tuple[Button, ...]:
    return tuple(_button(ctx, number, f"k:{k}", "kind", k) for k in service.KINDS)


def _plan_buttons(ctx: Context, number: int, plans: dict[str, Plan]) -> tuple[Button, ...]:
    shown = [_button(ctx, number, f"p:{p.id}", "plan", p.title) for p in plans.values()]
    return (*shown, _button(ctx, number, f"p:{OTHER}", "other_plan"))


def _theme_buttons(ctx: Context, number: int, themes: list[str]) -> tuple[Button, ...]:
    shown = [_button(ctx, number, f"t:{i}", "theme", t) for i, t in enumerate(themes)]
    return (*shown, _button(ctx, number, f"t:{OTHER}", "other_theme"))


def _summary_buttons(ctx: Context, number: int) -> tuple[Button, ...]:
    return tuple(_button(ctx, number, op, op) for op in ("send", "edit", "cancel"))


def router() -> Router:
    r = Router()
    r.command("baocao", private=True, action=Action.REPORT_ACTIVITY)(start)
    r.button(PREFIX, private=True, action=Action.REPORT_ACTIVITY, refusal="activity_refused")(
        tapped
    )
    return r
