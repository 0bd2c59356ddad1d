"""/mohinh: school staff put forward an exemplary model (mô hình điển hình) of their school —
title and description typed; an official picks the school by buttons — and every other
official of the ward is asked to decide (Duyệt / Không duyệt). A rejection asks the official
for the reason as their next message, then tells the author. Approved models count towards
the plans' targets (bot/services/kpis.py).

Button data: "mh:<model id>:<op>[:<arg>]": s:<unit id> (the author picks a school), ok, no.
"""

from __future__ import annotations

from sqlmodel.ext.asyncio.session import AsyncSession

from bot.dispatch import Context, Router
from bot.domain import Button
from bot.services import activities as service
from bot.services.permissions import Action
from bot.storage.models import ExemplaryModel, Person, Unit
from handlers import conversation

PREFIX = "mh"
FLOW = "model"
REASON_FLOW = "model_reason"


async def start(ctx: Context) -> None:
    async with ctx.db.session() as session:
        await conversation.begin(session, ctx.person_id, FLOW, step="title")
    ctx.reply("model_ask", step="title")


async def on_text(ctx: Context) -> bool:
    """The title, description or rejection reason being typed; False if none is expected."""
    return await _reason(ctx) or await _proposal(ctx)


async def _proposal(ctx: Context) -> bool:
    state = await conversation.step(ctx, FLOW, Action.REPORT_ACTIVITY)
    if state is None:
        return False
    async with ctx.db.session() as session:
        text = " ".join((ctx.event.text or "").split())
        if state.get("step") == "title":
            if not text or len(text) > service.MAX_TITLE:
                await conversation.begin(session, ctx.person_id, FLOW, step="title")
                ctx.reply("model_ask", step="title_again", max=service.MAX_TITLE)
            else:
                await conversation.begin(
                    session, ctx.person_id, FLOW, step="description", title=text
                )
                ctx.reply("model_ask", step="description")
            return True
        if not text or state.get("step") != "description":
            await conversation.begin(session, ctx.person_id, FLOW, **state)
            ctx.reply("model_ask", step="description")
            return True
        home = await service.home_unit(session, ctx.scope)
        unit = None if home is None else await session.get(Unit, home)
        model = ExemplaryModel(
            person_id=ctx.person_id,
            title=str(state.get("title", "")),
            description=text[: service.MAX_DESCRIPTION],
            unit_id=unit.id if unit is not None and unit.kind == "school" else None,
        )
        session.add(model)
        await session.commit()
        if model.unit_id is not None:
            await _submit(ctx, session, model)
            return True
        schools = await service.schools_in(session, ctx.scope)
    assert model.id is not None
    buttons = tuple(
        Button(
            ctx.label("model_button", kind="school", value=u.name), f"{PREFIX}:{model.id}:s:{u.id}"
        )
        for u in schools
    )
    ctx.reply("model_ask", step="school", buttons=buttons)
    return True


async def tapped(ctx: Context) -> None:
    number, _, rest = ctx.args.partition(":")
    op, _, arg = rest.partition(":")
    decision = op in ("ok", "no")
    if not await ctx.authorize(Action.APPROVE_MODEL if decision else Action.REPORT_ACTIVITY):
        ctx.answer_button("model_refused", reason="forbidden")
        return
    async with ctx.db.session() as session:
        model = await session.get(ExemplaryModel, int(number)) if number.isdigit() else None
        if model is None:
            ctx.answer_button("model_refused", reason="stale")
        elif op == "s" and arg.isdigit():
            await _pick_school(ctx, session, model, int(arg))
        elif decision:
            await _decide(ctx, session, model, approve=op == "ok")
        else:
            ctx.answer_button("model_refused", reason="stale")


async def _pick_school(
    ctx: Context, session: AsyncSession, model: ExemplaryModel, unit_id: int
) -> None:
    if model.person_id != ctx.person_id:
        ctx.answer_button("model_refused", reason="forbidden")
        return
    if model.status != "draft":
        ctx.answer_button("model_refused", reason="decided")
        return
    if unit_id not in {u.id for u in await service.schools_in(session, ctx.scope)}:
        ctx.answer_button("model_refused", reason="forbidden")
        return
    model.unit_id = unit_id
    session.add(model)
    await session.commit()
    ctx.answer_button()
    await _submit(ctx, session, model)


async def _submit(ctx: Context, session: AsyncSession, model: ExemplaryModel) -> None:
    assert model.id is not None
    model.status = service.PENDING
    session.add(model)
    await session.commit()
    school = await session.get(Unit, model.unit_id or -1)
    approvers = await service.approvers(session, model, ctx.event.platform)
    author = ctx.person.display_name if ctx.person else ""
    for approver in approvers:
        ctx.send_to(
            approver.platform_user_id,
            "model_request",
            buttons=_decision_buttons(ctx, model.id),
            model=model,
            school=school.name if school else "",
            author=author,
        )
    ctx.reply("model_decided", outcome="submitted", title=model.title, asked=len(approvers))


def _decision_buttons(ctx: Context, number: int) -> tuple[Button, ...]:
    return tuple(
        Button(ctx.label("model_button", kind=kind, value=""), f"{PREFIX}:{number}:{op}")
        for kind, op in (("approve", "ok"), ("reject", "no"))
    )


async def _decide(
    ctx: Context, session: AsyncSession, model: ExemplaryModel, approve: bool
) -> None:
    if model.unit_id not in ctx.scope:
        ctx.answer_button("model_refused", reason="forbidden")
        return
    if model.person_id == ctx.person_id:
        ctx.answer_button("model_refused", reason="own")
        return
    if model.status != service.PENDING:
        ctx.answer_button("model_refused", reason="decided")
        return
    assert model.id is not None
    ctx.answer_button()
    if not approve:  # decided when the reason comes
        await conversation.begin(session, ctx.person_id, REASON_FLOW, model=model.id)
        ctx.edit("model_decided", outcome="reason_asked", title=model.title)
        return
    if not await service.decide(session, model.id, ctx.person_id, approve=True):
        ctx.edit("model_decided", outcome="closed", title=model.title)
        return
    ctx.edit("model_decided", outcome="approved", title=model.title)
    await _tell_author(ctx, session, model, "approved_author", reason="")


async def _reason(ctx: Context) -> bool:
    """The reason an official gives after tapping «Không duyệt»: the model is rejected."""
    state = await conversation.step(ctx, REASON_FLOW, Action.APPROVE_MODEL)
    async with ctx.db.session() as session:
        model = None if state is None else await session.get(ExemplaryModel, state.get("model", -1))
        if model is None or model.id is None:
            return False
        reason = " ".join((ctx.event.text or "").split())[: service.MAX_DESCRIPTION]
        if not reason:
            await conversation.begin(session, ctx.person_id, REASON_FLOW, model=model.id)
            ctx.reply("model_decided", outcome="reason_asked", title=model.title)
            return True
        if not await service.decide(session, model.id, ctx.person_id, approve=False, reason=reason):
            ctx.reply("model_decided", outcome="closed", title=model.title)
            return True
        ctx.reply("model_decided", outcome="rejected", title=model.title)
        await _tell_author(ctx, session, model, "rejected_author", reason=reason)
    return True


async def _tell_author(
    ctx: Context, session: AsyncSession, model: ExemplaryModel, outcome: str, reason: str
) -> None:
    author = await session.get(Person, model.person_id or -1)
    if author is not None and author.platform == ctx.event.platform:
        by = ctx.person.display_name if ctx.person else ""
        ctx.send_to(
            author.platform_user_id, "model_decided", outcome=outcome, title=model.title,
            by=by, reason=reason,
        )  # fmt: skip


def router() -> Router:
    r = Router()
    r.command("mohinh", private=True, action=Action.REPORT_ACTIVITY)(start)
    r.button(PREFIX, private=True, person=True, refusal="model_refused")(tapped)
    return r
