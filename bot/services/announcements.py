"""Announcements: an official composes one, a second official approves it, and only then does it
enter the outbox. While it goes out, a progress message in the author's chat is edited
("Đang gửi 1.234/10.000…") and finally shows the summary.

Status: draft → pending (submitted) → approved (enqueued) → sent (summary shown) | rejected.
"""

from __future__ import annotations

import asyncio
import contextlib
import html
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.domain import OutboundMessage, Platform
from bot.platforms.base import PlatformAdapter, SendError
from bot.services.broadcasts import Broadcast, enqueue
from bot.services.permissions import Action, scope
from bot.services.units import bound_chats
from bot.storage.db import Database
from bot.storage.models import Announcement, Delivery, Person, Role, RoleName, utcnow
from content.templates import Templates

log = logging.getLogger(__name__)
MAX_TEXT = 3000  # leaves room in Telegram's 4096 for the header the template adds
AUDIENCES = ("parents", "teachers", "staff", "community")
WAITING = ("pending", "retry_wait", "in_flight")


def as_html(typed: str) -> str:
    """What an official typed, safe inside Telegram HTML."""
    return html.escape(typed.strip(), quote=False)


async def approvers(session: AsyncSession, announcement: Announcement) -> list[Person]:
    """Officials other than the author whose scope covers every unit of the announcement."""
    query = (
        select(Person)
        .join(Role, col(Role.person_id) == Person.id)
        .where(Role.role == RoleName.OFFICIAL, Person.id != announcement.author_id)
        .distinct()
    )
    found = []
    for person in (await session.exec(query)).all():
        units = await scope(session, person.id, Action.APPROVE_ANNOUNCEMENT)
        if set(announcement.unit_ids) <= units:
            found.append(person)
    return found


async def approve(
    db: Database, announcement_id: int, approver_id: int, now: datetime | None = None
) -> Announcement | None:
    """Record the approval and enqueue the announcement to its chats, once: None if it was not
    pending (already decided, or withdrawn)."""
    now = now or utcnow()
    async with db.session() as session:
        announcement = await session.get(Announcement, announcement_id)
        if announcement is None or announcement.status != "pending":
            return None
        announcement.status = "approved"
        announcement.approved_by, announcement.approved_at = approver_id, now
        chats = await bound_chats(session, announcement.audiences, announcement.unit_ids)
        session.add(announcement)
        await session.commit()
    item = Broadcast(
        key=f"announcement:{announcement_id}",
        title=f"Thông báo số {announcement_id}",
        text=announcement.text,
        due_at=max(announcement.due_at or now, now),
        urgent=announcement.urgent,
    )
    occurrence = await enqueue(db, item, chats)
    async with db.session() as session:
        announcement = await session.get(Announcement, announcement_id)
        assert announcement is not None
        announcement.occurrence_id = occurrence
        session.add(announcement)
        await session.commit()
        return announcement


@dataclass(frozen=True)
class Progress:
    total: int
    sent: int
    failed: int
    uncertain: int
    expired: int
    waiting: int

    @property
    def done(self) -> bool:
        return self.waiting == 0


async def progress(session: AsyncSession, occurrence_id: int) -> Progress:
    rows = await session.exec(
        select(Delivery.status, func.count())
        .where(Delivery.occurrence_id == occurrence_id)
        .group_by(col(Delivery.status))
    )
    counts = {status: int(n) for status, n in rows.all()}
    return Progress(
        total=sum(counts.values()),
        sent=counts.get("sent", 0),
        failed=counts.get("failed", 0),
        uncertain=counts.get("uncertain", 0),
        expired=counts.get("expired", 0),
        waiting=sum(counts.get(s, 0) for s in WAITING),
    )


class ProgressReporter:
    """Keeps each sending announcement's progress message current, then writes its summary.
    Runs in the process that runs the sender; edits at most every `interval` seconds."""

    def __init__(
        self,
        db: Database,
        adapters: Mapping[Platform, PlatformAdapter],
        templates: Templates,
        interval: float = 2.0,
    ) -> None:
        self.db, self.adapters, self.templates, self.interval = db, adapters, templates, interval
        self._shown: dict[int, str] = {}  # announcement id → the text last shown

    async def run(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            try:
                await self.report_once()
            except Exception as e:  # the database or the platform is away: try again later
                log.warning("announcement progress not updated: %s", type(e).__name__)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), self.interval)

    async def report_once(self) -> None:
        async with self.db.session() as session:
            sending = (
                await session.exec(
                    select(Announcement).where(
                        Announcement.status == "approved",
                        col(Announcement.occurrence_id).is_not(None),
                    )
                )
            ).all()
            for announcement in sending:
                assert announcement.occurrence_id is not None and announcement.id is not None
                state = await progress(session, announcement.occurrence_id)
                await self._show(session, announcement, state)
                if state.done:
                    announcement.status = "sent"
                    session.add(announcement)
                    self._shown.pop(announcement.id, None)
            await session.commit()

    async def _show(self, session: AsyncSession, a: Announcement, state: Progress) -> None:
        assert a.id is not None
        due = a.due_at if a.due_at is not None and a.due_at > utcnow() else None
        text = self.templates.render(
            "announce_progress", number=a.id, p=state, due_at=due, urgent=a.urgent
        )
        if self._shown.get(a.id) == text:
            return
        person = await session.get(Person, a.author_id or a.approved_by or -1)
        adapter = self.adapters.get(Platform(person.platform)) if person else None
        if person is None or adapter is None:
            return  # the author erased their data: nobody to report to
        try:
            if a.progress_message is None:
                sent = await adapter.send(OutboundMessage(person.platform_user_id, text))
                a.progress_chat, a.progress_message = person.platform_user_id, sent.message_id
                session.add(a)
            else:
                assert a.progress_chat is not None
                await adapter.edit_text(a.progress_chat, a.progress_message, text)
        except SendError as e:
            log.info("announcement %s: progress not shown (%s)", a.id, type(e).__name__)
            return
        self._shown[a.id] = text
