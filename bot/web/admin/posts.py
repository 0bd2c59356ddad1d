"""/admin/bai: the period's posts with their reach, and the announcements with their approval
trail. Officials compose one here through the same service and the same second-official
approval as /thongbao (bot.services.announcements), and approve from here: the approved one
goes out in chat like any other. Approvers and authors are told in chat, as with /thongbao."""

from __future__ import annotations

import html
import logging
from collections.abc import Sequence

import sqlalchemy as sa
from aiohttp import web
from sqlalchemy import func
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.domain import OutboundMessage
from bot.services import announcements as service
from bot.services.units import bound_chats
from bot.storage.deliveries import failure_of
from bot.storage.models import (
    Announcement,
    AnnouncementStatus,
    Chat,
    Delivery,
    Feedback,
    Person,
    Unit,
    table_of,
)
from bot.text import utf16_len
from bot.web.admin.chat import tell
from bot.web.admin.deps import dashboard, viewer
from bot.web.admin.figures import seen
from bot.web.admin.pages import page

log = logging.getLogger(__name__)
S = AnnouncementStatus


async def posts(request: web.Request) -> web.StreamResponse:
    dash, who = dashboard(request), viewer(request)
    s = await seen(request)
    by_post = s.reach.by_post()
    titles = {p.source or p.key: (p.title, p.due_at) for p in s.reach.posts.values()}
    ids = {p.source or p.key: p.id for p in s.reach.posts.values()}
    async with dash.db.read_session() as session:
        found = (
            await session.exec(select(Announcement).order_by(col(Announcement.id).desc()))
        ).all()
        shown = [a for a in found if a.unit_ids and set(a.unit_ids) <= who.scope]
        people = await _names(session, {p for a in shown for p in (a.author_id, a.approved_by)})
        units = {u.id: u.name for u in (await session.exec(select(Unit))).all()}
        choices = await service.choices(session, who.announce) if who.announce else []
    rows = [
        (a, html.unescape(a.text), by_post.get(f"announcement:{a.id}"), people, units)
        for a in shown
        if a.status != S.DRAFT
    ]
    return page(
        request,
        "posts.html",
        s=s,
        posts=sorted(
            ((ids[key], *titles[key], f) for key, f in by_post.items() if key in titles),
            key=lambda p: p[2],
        ),
        announcements=rows,
        choices=choices,
        audiences=service.AUDIENCES,
        done=request.query.get("xong", ""),
        error=request.query.get("loi", ""),
        max_text=service.MAX_TEXT,
    )


async def compose(request: web.Request) -> web.StreamResponse:
    dash, who = dashboard(request), viewer(request)
    if not who.announce:
        raise web.HTTPNotFound()
    form = await request.post()
    typed = str(form.get("noidung", "")).strip()
    audiences = [a for a in form.getall("doituong", []) if a in service.AUDIENCES]
    async with dash.db.session() as session:
        allowed = {u.id for u in await service.choices(session, who.announce)}
        wanted = [int(u) for u in map(str, form.getall("donvi", [])) if u.isdigit()]
        unit_ids = [u for u in wanted if u in allowed]
        if not typed or utf16_len(typed) > service.MAX_TEXT:
            return _back("noidung")
        if not audiences or not unit_ids or len(unit_ids) != len(wanted):
            return _back("chon")
        if not await bound_chats(session, audiences, unit_ids):
            return _back("nhom")
        a = Announcement(
            author_id=who.person_id,
            text=service.as_html(typed),
            audiences=audiences,
            unit_ids=unit_ids,
            urgent=form.get("khan") == "1",
        )
        session.add(a)
        await session.commit()
        assert a.id is not None
        number = a.id
    # The progress is shown in the author's private chat, as a new message.
    await service.submit(dash.db, number, who.person_id, (who.platform_user_id, None))
    async with dash.db.session() as session:
        submitted = await session.get(Announcement, number)
        assert submitted is not None
        a = submitted
        asked = await service.approvers(session, a, who.platform)
        names = [units.name for units in await _units(session, a.unit_ids)]
        groups = len(await bound_chats(session, a.audiences, a.unit_ids))
    for approver in asked:
        text = dash.templates.render("announce_request", a=a, number=number, author=who.name,
                                     unit_names=names, groups=groups)  # fmt: skip
        buttons = service.decision_buttons(dash.templates, number)
        await tell(
            dash, approver.platform, OutboundMessage(approver.platform_user_id, text, buttons)
        )
    log.info("dashboard: announcement %d submitted, %d approvers asked", number, len(asked))
    raise web.HTTPSeeOther(f"/admin/bai?xong=gui&so={number}")


async def decide(request: web.Request) -> web.StreamResponse:
    dash, who = dashboard(request), viewer(request)
    number = int(request.match_info["number"])
    form = await request.post()
    approve = form.get("quyet") == "duyet"
    async with dash.db.session() as session:
        a = await session.get(Announcement, number)
        if a is None or not a.unit_ids or not set(a.unit_ids) <= who.approve:
            raise web.HTTPNotFound()
        author = await session.get(Person, a.author_id or -1)
    if a.author_id == who.person_id:
        return _back("cuaminh")
    if not await service.decide(dash.db, number, who.person_id, approve=approve,
                                templates=dash.templates):  # fmt: skip
        return _back("daquyet")
    if author is not None:
        outcome = "approved_author" if approve else "rejected_author"
        text = dash.templates.render(
            "announce_decided", outcome=outcome, number=number, by=who.name
        )
        await tell(dash, author.platform, OutboundMessage(author.platform_user_id, text))
    log.info("dashboard: announcement %d %s", number, "approved" if approve else "rejected")
    raise web.HTTPSeeOther(f"/admin/bai?xong={'duyet' if approve else 'tuchoi'}#cho-duyet")


def _back(error: str) -> web.StreamResponse:
    """Back to the form, saying what was wrong (nothing was saved)."""
    raise web.HTTPSeeOther(f"/admin/bai?loi={error}#soan")


async def _names(session: AsyncSession, ids: set[int | None]) -> dict[int, str]:
    wanted = [i for i in ids if i is not None]
    rows = (await session.exec(select(Person).where(col(Person.id).in_(wanted)))).all()
    return {p.id: p.display_name for p in rows if p.id is not None}


async def _units(session: AsyncSession, ids: Sequence[int]) -> list[Unit]:
    return list((await session.exec(select(Unit).where(col(Unit.id).in_(ids)))).all())


async def post(request: web.Request) -> web.StreamResponse:
    """One post: each of the viewer's groups it went to — sent or not, to how many people, who
    acknowledged or answered (a link to the group's people)."""
    dash, who = dashboard(request), viewer(request)
    s = await seen(request)
    number = int(request.match_info["occurrence"])
    found = s.reach.posts.get(number)
    if found is None:
        raise web.HTTPNotFound()
    d, c, fb = table_of(Delivery), table_of(Chat), table_of(Feedback)
    answers = (
        sa.select(fb.c.chat_id, fb.c.kind, func.count().label("people"))
        .where(fb.c.occurrence_id == number)
        .group_by(fb.c.chat_id, fb.c.kind)
    )
    async with dash.db.reading() as conn:
        chats = (
            await conn.execute(
                sa.select(c.c.id, c.c.title, c.c.unit_id, c.c.audience, d.c.status,
                       d.c.audience_size, failure_of(d.c.error).label("failure"))
                .join(c, c.c.id == d.c.chat_id)
                .where(d.c.occurrence_id == number)
                .order_by(c.c.title, c.c.id)
            )
        ).all()  # fmt: skip
        counted = {(chat, kind): n for chat, kind, n in await conn.execute(answers)}
    rows = [row for row in chats if who.sees(row.unit_id)]
    if not rows:
        raise web.HTTPNotFound()
    return page(request, "post.html", s=s, post=found, rows=rows, counted=counted)


def routes(r: web.RouteTableDef) -> None:
    r.get("/bai")(posts)
    r.get(r"/bai/{occurrence:\d+}")(post)
    r.post("/bai/thongbao")(compose)
    r.post(r"/bai/thongbao/{number:\d+}")(decide)
