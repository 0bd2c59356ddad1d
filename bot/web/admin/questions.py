"""/admin/cauhoi: the questions of the viewer's units — open (those past 48 h first), answered,
handled — answered or marked handled from the web through the chat flow's service
(bot.services.questions). The answer goes to the asker through the outbox: to their private
chat, or to the group they asked in (with their question quoted, as the outbox sends no
reply-to)."""

from __future__ import annotations

import logging

from aiohttp import web
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.services import questions as service
from bot.services.broadcasts import Broadcast, enqueue
from bot.services.people import private_chat
from bot.services.permissions import Action, scope
from bot.storage.models import FeedbackItem, ItemKind, ItemStatus, Person, Unit
from bot.web.admin.deps import dashboard, viewer
from bot.web.admin.pages import page

log = logging.getLogger(__name__)


async def listing(request: web.Request) -> web.StreamResponse:
    dash, who = dashboard(request), viewer(request)
    late = dash.now() - service.REMIND_AFTER
    async with dash.db.read_session() as session:
        found = await service.list_for(session, who.scope, status=None)
        people = await _names(
            session, {i.person_id for i in found} | {i.answered_by for i in found}
        )
        units = {u.id: u.name for u in (await session.exec(select(Unit))).all()}
    is_open = [i for i in found if i.status == ItemStatus.OPEN]
    overdue = [i for i in is_open if i.created_at <= late]
    return page(
        request,
        "questions.html",
        overdue=overdue,
        fresh=[i for i in is_open if i.created_at > late],
        closed=sorted(
            (i for i in found if i.status != ItemStatus.OPEN),
            key=lambda i: i.answered_at or i.created_at,
            reverse=True,
        ),
        people=people,
        units=units,
        done=request.query.get("xong", ""),
        error=request.query.get("loi", ""),
        max_text=service.MAX_TEXT,
    )


async def close(request: web.Request) -> web.StreamResponse:
    """The answer (`cach=traloi`) or the reason it was handled (`cach=xuly`) for one question."""
    dash, who = dashboard(request), viewer(request)
    number = int(request.match_info["number"])
    form = await request.post()
    handled = form.get("cach") == "xuly"
    text = service.cleaned(str(form.get("noidung", "")))
    async with dash.db.session() as session:
        item = await session.get(FeedbackItem, number)
        if item is None or item.kind != ItemKind.QUESTION or not who.sees(item.unit_id):
            raise web.HTTPNotFound()
        units = await scope(session, who.person_id, Action.ANSWER_QUESTION)
        if item.unit_id not in units:
            raise web.HTTPNotFound()
        if not service.MIN_TEXT <= len(text) <= service.MAX_TEXT:
            return _back("noidung", number)
        shut = service.mark_handled if handled else service.answer
        closed = await shut(session, number, who.person_id, text, units)
        if closed is None:
            return _back("daxong", number)
        if handled:
            log.info("dashboard: question %d marked handled", number)
            raise web.HTTPSeeOther("/admin/cauhoi?xong=xuly#da-xong")
        to = await _chat_of(session, closed)
    if to is None:
        log.info("dashboard: question %d answered, the asker cannot be reached", number)
        raise web.HTTPSeeOther("/admin/cauhoi?xong=khongden#da-xong")
    post = Broadcast(
        key=f"question:{number}:answer",
        title=f"Trả lời câu hỏi số {number}",
        text=dash.templates.render("question_answer", item=closed, staff=who.name, in_group=False),
        kind="question_answer",
        source=f"question:{number}",
    )
    await enqueue(dash.db, post, [to])
    log.info("dashboard: question %d answered, the answer is in the outbox", number)
    raise web.HTTPSeeOther("/admin/cauhoi?xong=traloi#da-xong")


async def _chat_of(session: AsyncSession, item: FeedbackItem) -> int | None:
    """The chats row the answer goes to: the group it was asked in, else the asker's private
    chat (service.destination decides which); None when the asker erased their data."""
    to = await service.destination(session, item)
    if to is None:
        return None
    if to.reply_to is not None and item.chat_id is not None:
        return item.chat_id
    asker = await session.get(Person, item.person_id or -1)
    if asker is None:
        return None
    chat = await private_chat(session, asker)
    await session.commit()
    return chat


def _back(error: str, number: int) -> web.StreamResponse:
    """Back to the question's form, saying what was wrong (nothing was changed)."""
    raise web.HTTPSeeOther(f"/admin/cauhoi?loi={error}&so={number}#cau-{number}")


async def _names(session: AsyncSession, ids: set[int | None]) -> dict[int, str]:
    wanted = [i for i in ids if i is not None]
    rows = (await session.exec(select(Person).where(col(Person.id).in_(wanted)))).all()
    return {p.id: p.display_name for p in rows if p.id is not None}


def routes(r: web.RouteTableDef) -> None:
    r.get("/cauhoi")(listing)
    r.post(r"/cauhoi/{number:\d+}")(close)
