"""Turning a post that is due into an occurrence and its outbox rows."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import select, update

from bot.domain import Button
from bot.storage.db import Database, insert_ignoring_duplicates
from bot.storage.models import Chat, Delivery, Occurrence, table_of, utcnow

_CHUNK = 5000  # bound the bound parameters of one statement (SQLite and asyncpg cap them)


@dataclass(frozen=True)
class Broadcast:
    """What to send. `key` names this firing (post and due time): enqueueing the same key twice
    finds the first occurrence and adds only chats it did not have. A button's data may hold
    `{occurrence}`, replaced by the occurrence's id (answers must name what they answer).
    `kind` is the post's kind, `meta` what its answers mean ({"answer": 1, "options": [...]} for
    a quiz, {"options": [...]} for an RSVP), `source` where it comes from ("campaign:c/post")."""

    key: str
    title: str
    text: str
    buttons: tuple[Button, ...] = ()
    due_at: datetime = field(default_factory=utcnow)
    valid_until: datetime | None = None
    urgent: bool = False
    kind: str | None = None
    meta: dict[str, Any] = field(default_factory=dict)
    source: str | None = None

    def row(self) -> dict[str, Any]:
        """The occurrence's columns (less its buttons, which need its id)."""
        return {
            "key": self.key,
            "title": self.title,
            "text": self.text,
            "due_at": self.due_at,
            "valid_until": self.valid_until,
            "urgent": self.urgent,
            "kind": self.kind,
            "meta": self.meta,
            "source": self.source,
            "created_at": utcnow(),
        }


async def enqueue(db: Database, broadcast: Broadcast, chat_ids: Sequence[int]) -> int:
    """Create (or find) the occurrence and one pending delivery per active chat.

    Returns the occurrence id. Chats already holding a delivery of it get no second one.
    """
    occurrences, chats, outbox = table_of(Occurrence), table_of(Chat), table_of(Delivery)
    async with db.engine.begin() as conn:
        await conn.execute(insert_ignoring_duplicates(db, occurrences).values(broadcast.row()))
        found = select(occurrences.c.id).where(occurrences.c.key == broadcast.key)
        occurrence_id = (await conn.execute(found)).scalar_one()
        buttons = [
            {"label": b.label, "data": b.data.replace("{occurrence}", str(occurrence_id))}
            for b in broadcast.buttons
        ]
        await conn.execute(
            update(occurrences).where(occurrences.c.id == occurrence_id).values(buttons=buttons)
        )
        for start in range(0, len(chat_ids), _CHUNK):
            active = select(chats.c.id, chats.c.platform).where(
                chats.c.id.in_(chat_ids[start : start + _CHUNK]), chats.c.active.is_(True)
            )
            rows = [
                {
                    "occurrence_id": occurrence_id,
                    "chat_id": chat_id,
                    "platform": platform,
                    "status": "pending",
                    "attempts": 0,
                    "next_attempt_at": broadcast.due_at,
                    "migrated": False,
                }
                for chat_id, platform in await conn.execute(active)
            ]
            if rows:
                await conn.execute(insert_ignoring_duplicates(db, outbox), rows)
    return int(occurrence_id)


async def record_missed(db: Database, broadcast: Broadcast) -> bool:
    """Record that `broadcast` was not sent (its time passed while loa could not fire it): its
    occurrence with `missed_at` and no deliveries. False when the occurrence already exists —
    another process enqueued it, and that stands."""
    occurrences = table_of(Occurrence)
    stmt = (
        insert_ignoring_duplicates(db, occurrences)
        .values({**broadcast.row(), "buttons": [], "missed_at": utcnow()})
        .returning(occurrences.c.id)
    )
    async with db.engine.begin() as conn:
        return (await conn.execute(stmt)).scalar_one_or_none() is not None
