"""Announcements: an official composes one, a second official approves it, and only then does it
enter the outbox. While it goes out, a progress message in the author's chat is edited
("Đang gửi 1.234/10.000…") and finally shows the summary.

Status: draft → pending (submitted) → approved (enqueued) → sent (summary shown) | rejected;
the author may withdraw (cancelled) until someone decides.
"""

from __future__ import annotations

import asyncio
import contextlib
import html
import logging
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.config import QuietHours
from bot.domain import Audience, Button, OutboundMessage, Platform
from bot.platforms.base import PlatformAdapter, SendError
from bot.services.broadcasts import Broadcast, enqueue
from bot.services.permissions import Action, deciders
from bot.services.units import bound_chats, tops
from bot.storage.db import Database
from bot.storage.deliveries import Failure, occurrence_counts
from bot.storage.models import (
    Announcement,
    AnnouncementStatus,
    Person,
    Role,
    RoleName,
    Unit,
    table_of,
    utcnow,
)
from content.templates import Templates

log = logging.getLogger(__name__)
MAX_TEXT = 3000  # leaves room in Telegram's 4096 for the header the template adds
AUDIENCES = (Audience.parents, Audience.teachers, Audience.staff, Audience.community)
S = AnnouncementStatus
PREFIX = "ann"  # its buttons' data: "ann:<id>:<op>" (handlers/announcements.py)


def as_html(typed: str) -> str:
    """What an official typed, safe inside Telegram HTML."""
    return html.escape(typed.strip(), quote=False)


def decision_buttons(templates: Templates, number: int) -> tuple[Button, ...]:
    """«Duyệt» and «Không duyệt» for an approver, in chat (from /thongbao or the dashboard)."""
    return tuple(
        Button(
            templates.render_plain("announce_button", kind=kind, value="", on=False),
            f"{PREFIX}:{number}:{op}",
        )
        for kind, op in (("approve", "ok"), ("reject", "no"))
    )


async def choices(session: AsyncSession, scope: Collection[int]) -> list[Unit]:
    """The units an announcement can be addressed to: the top of the person's scope and the
    units right below it (schools, departments, residential groups; not every class)."""
    roots = await tops(session, set(scope))
    top = [u.id for u in roots]
    query = select(Unit).where(col(Unit.parent_id).in_(top), col(Unit.id).in_(scope))
    below = sorted((await session.exec(query)).all(), key=lambda u: (u.kind, u.name))
    return roots + below


async def approvers(
    session: AsyncSession, announcement: Announcement, platform: str
) -> list[Person]:
    """Officials on `platform` other than the author whose scope covers every unit of the
    announcement."""
    return await deciders(
        session,
        Action.APPROVE_ANNOUNCEMENT,
        announcement.unit_ids,
        announcement.author_id,
        platform,
    )


async def decide(
    db: Database,
    announcement_id: int,
    person_id: int,
    *,
    approve: bool,
    templates: Templates,
    now: datetime | None = None,
) -> bool:
    """Record one official's decision on a pending announcement, and enqueue it if approved.
    False if it was decided already: one conditional UPDATE settles two officials tapping at
    once, so it cannot go out while marked rejected."""
    now = now or utcnow()
    values: dict[str, object] = {"status": S.APPROVED if approve else S.REJECTED}
    if approve:
        values.update(approved_by=person_id, approved_at=now)
    won = await _move(db, announcement_id, (S.PENDING,), values)
    if won and approve:
        await enqueue_approved(db, announcement_id, templates, now)
    return won


async def withdraw(db: Database, announcement_id: int, author_id: int) -> bool:
    """The author cancels a draft or an undecided submission; False once it is decided (or
    not theirs). Conditional, like `decide`, so it cannot cross an approval."""
    return await _move(
        db, announcement_id, (S.DRAFT, S.PENDING), {"status": S.CANCELLED}, author_id=author_id
    )


async def submit(
    db: Database, announcement_id: int, author_id: int, shown_at: tuple[str, str | None]
) -> bool:
    """The author submits a draft for approval; False if it is no longer a draft of theirs.
    `shown_at` (chat, message) is the author's message that says so: the progress is shown
    there later, in place of its «Rút lại» button."""
    chat, message = shown_at
    values: dict[str, object] = {"status": S.PENDING, "progress_chat": chat}
    values["progress_message"] = message
    return await _move(db, announcement_id, (S.DRAFT,), values, author_id=author_id)


async def finish(session: AsyncSession, announcement: Announcement) -> None:
    """Every delivery of an approved announcement has finished (the reporter's summary)."""
    announcement.status = S.SENT
    session.add(announcement)


async def _move(
    db: Database,
    announcement_id: int,
    from_: tuple[AnnouncementStatus, ...],
    values: dict[str, object],
    *,
    author_id: int | None = None,
) -> bool:
    """One conditional UPDATE from one of `from_`: of two people acting at once, one wins."""
    table = table_of(Announcement)
    moved = (
        update(table)
        .where(table.c.id == announcement_id, table.c.status.in_(list(from_)))
        .values(**values)
        .returning(table.c.id)
    )
    if author_id is not None:
        moved = moved.where(table.c.author_id == author_id)
    async with db.session() as session:
        won = (await session.exec(moved)).first() is not None
        await session.commit()
    return won


async def enqueue_approved(
    db: Database, announcement_id: int, templates: Templates, now: datetime | None = None
) -> int:
    """Put an approved announcement in the outbox, to the chats bound now, with its heading
    (units, sender) and a «Đã hiểu» button, so its understanding is measured like any post's;
    returns its occurrence. Idempotent on the key, so the reporter finishes one whose approval
    was interrupted before this ran."""
    now = now or utcnow()
    async with db.session() as session:
        announcement = await session.get(Announcement, announcement_id)
        assert announcement is not None and announcement.status in (S.APPROVED, S.SENT)
        chats = await bound_chats(session, announcement.audiences, announcement.unit_ids)
        units = await session.exec(select(Unit.name).where(col(Unit.id).in_(announcement.unit_ids)))
        # Who sends it is the author's office (the unit of their official role), not their
        # name: the post's copy is kept, and an author may erase their data.
        office = await session.exec(
            select(Unit.name)
            .join(Role, col(Role.unit_id) == Unit.id)
            .where(Role.person_id == announcement.author_id, Role.role == RoleName.OFFICIAL)
        )
        text = templates.render(
            "announce_post",
            a=announcement,
            number=announcement_id,
            unit_names=list(units),
            office=office.first() or "",
        )
    ack = templates.render_plain("announce_button", kind="ack", value="", on=False)
    item = Broadcast(
        key=f"announcement:{announcement_id}",
        title=f"Thông báo số {announcement_id}",
        text=text,
        buttons=(Button(ack, "ack:{occurrence}"),),
        due_at=max(announcement.due_at or now, now),
        urgent=announcement.urgent,
        kind="announcement",
        source=f"announcement:{announcement_id}",
    )
    occurrence = await enqueue(db, item, chats)
    async with db.session() as session:
        announcement = await session.get(Announcement, announcement_id)
        assert announcement is not None
        announcement.occurrence_id = occurrence
        session.add(announcement)
        await session.commit()
    return occurrence


@dataclass(frozen=True)
class Progress:
    total: int
    sent: int
    failed: int
    uncertain: int
    expired: int
    waiting: int
    failures: Mapping[Failure, int] = field(default_factory=dict)  # failed, by reason

    @property
    def done(self) -> bool:
        return self.waiting == 0


async def progress(source: Database | AsyncConnection, occurrence_id: int) -> Progress:
    counts = (await occurrence_counts(source, [occurrence_id]))[occurrence_id]
    statuses = counts.statuses
    return Progress(
        total=counts.total,
        sent=statuses.get("sent", 0),
        failed=statuses.get("failed", 0),
        uncertain=statuses.get("uncertain", 0),
        expired=statuses.get("expired", 0),
        waiting=counts.waiting,
        failures=counts.failures,
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
        quiet_hours: QuietHours | None = None,
    ) -> None:
        self.db, self.adapters, self.templates, self.interval = db, adapters, templates, interval
        self.quiet = quiet_hours
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
        """Read the sending announcements, show each one's progress (network calls outside any
        transaction), then record what was shown and which are done."""
        async with self.db.session() as session:
            approved = (
                await session.exec(select(Announcement).where(Announcement.status == S.APPROVED))
            ).all()
        for announcement in approved:
            if announcement.occurrence_id is None:  # its approval was interrupted: finish it
                assert announcement.id is not None
                announcement.occurrence_id = await enqueue_approved(
                    self.db, announcement.id, self.templates
                )
        for announcement in approved:
            assert announcement.occurrence_id is not None and announcement.id is not None
            state = await progress(self.db, announcement.occurrence_id)
            async with self.db.session() as session:
                author = await session.get(Person, announcement.author_id or -1)
            shown = await self._show(announcement, author, state)
            if shown is None and not state.done:
                continue
            async with self.db.session() as session:
                row = await session.get(Announcement, announcement.id)
                assert row is not None
                if shown is not None:
                    row.progress_chat, row.progress_message = shown
                if state.done:
                    await finish(session, row)
                    self._shown.pop(announcement.id, None)
                session.add(row)
                await session.commit()

    def _held(self, a: Announcement, state: Progress) -> bool:
        """Whether its parents' groups are waiting for the end of quiet hours now."""
        if self.quiet is None or a.urgent or not state.waiting:
            return False
        held = self.quiet.held_now(utcnow().astimezone(self.templates.timezone).time())
        return any(audience in held for audience in a.audiences)

    async def _show(
        self, a: Announcement, author: Person | None, state: Progress
    ) -> tuple[str, str] | None:
        """Send or edit the author's progress message; (chat, message) when it was sent anew.
        Nobody to tell once the author erased their data."""
        assert a.id is not None
        adapter = self.adapters.get(Platform(author.platform)) if author else None
        if author is None or adapter is None:
            return None
        due = a.due_at if a.due_at is not None and a.due_at > utcnow() else None
        text = self.templates.render(
            "announce_progress",
            number=a.id,
            p=state,
            due_at=due,
            urgent=a.urgent,
            held=self._held(a, state),
        )
        if self._shown.get(a.id) == text:
            return None
        can_edit = adapter.capabilities.edit
        if not can_edit and not state.done:
            return None  # a platform that cannot edit (Zalo) gets the summary alone, once
        try:
            if not can_edit or a.progress_message is None or a.progress_chat is None:
                sent = await adapter.send(OutboundMessage(author.platform_user_id, text))
                self._shown[a.id] = text
                return author.platform_user_id, sent.message_id
            await adapter.edit_text(a.progress_chat, a.progress_message, text)
        except SendError as e:
            log.info("announcement %s: progress not shown (%s)", a.id, type(e).__name__)
            return None
        self._shown[a.id] = text
        return None
