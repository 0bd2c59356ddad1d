"""Numbered replies: on a platform without buttons, "Trả lời 1 nếu đã hiểu" stands for the
button, and a person typing "1" (or "1.", " 1 ") taps it.

The adapter that shows buttons as numbers records them here (`NumberedStore.shown`), in the
database so that a restart does not forget what a chat was asked; the dispatcher turns a typed
number back into the button's event (`resolve`) before any handler sees it, so handlers receive
the very event a Telegram tap gives them.
"""

from __future__ import annotations

import dataclasses
import logging
import re
from collections.abc import Sequence
from typing import Final

from sqlmodel import col, select, update

from bot.domain import Button, ChatType, EventKind, InboundEvent, Platform
from bot.storage.db import Database, insert_for
from bot.storage.models import NumberedReplies, table_of, utcnow

log = logging.getLogger(__name__)

# "1", "1.", "1)", " 2 ": a number alone (two digits at most: no list is longer).
_NUMBER: Final = re.compile(r"\s*(\d{1,2})\s*[.)]?\s*")


@dataclasses.dataclass(frozen=True, slots=True)
class OutOfRange:
    """A number typed where numbered replies are on offer, but none has it."""

    typed: int
    count: int


class NumberedStore:
    """What an adapter without buttons remembers of what it sent."""

    def __init__(self, db: Database) -> None:
        self.db = db

    async def shown(
        self, platform: Platform, chat_id: str, message_id: str, buttons: Sequence[Button]
    ) -> None:
        """loa sent `message_id` to `chat_id`: with buttons, they are now the chat's numbers;
        without, a private chat's numbers are no longer on loa's latest message."""
        async with self.db.session() as session:
            if buttons:
                values = {
                    "platform": platform.value,
                    "chat_id": chat_id,
                    "message_id": message_id,
                    "buttons": [{"label": b.label, "data": b.data} for b in buttons],
                    "latest": True,
                    "shown_at": utcnow(),
                }
                stmt = insert_for(session, table_of(NumberedReplies)).values(**values)
                stmt = stmt.on_conflict_do_update(
                    index_elements=["platform", "chat_id"],
                    set_={k: v for k, v in values.items() if k not in ("platform", "chat_id")},
                )
            else:
                stmt = (
                    update(NumberedReplies)
                    .where(
                        col(NumberedReplies.platform) == platform.value,
                        col(NumberedReplies.chat_id) == chat_id,
                    )
                    .values(latest=False)
                )
            await session.exec(stmt)
            await session.commit()


def typed_number(text: str | None) -> int | None:
    match = _NUMBER.fullmatch(text or "")
    return int(match[1]) if match else None


async def resolve(db: Database, event: InboundEvent) -> InboundEvent | OutOfRange:
    """`event` as handlers should see it: a typed number that picks one of the chat's numbered
    replies becomes that button's tap; one out of their range is `OutOfRange`; anything else
    is returned as it is (in a private chat whose numbers are not on loa's latest message, a
    number is an answer to that message, e.g. how many took part)."""
    number = typed_number(event.text) if event.kind is EventKind.MESSAGE else None
    if number is None or event.command is not None or event.chat_id is None:
        return event
    async with db.read_session() as session:
        shown = (
            await session.exec(
                select(NumberedReplies).where(
                    NumberedReplies.platform == event.platform.value,
                    NumberedReplies.chat_id == event.chat_id,
                )
            )
        ).first()
    if shown is None or (event.chat_type is ChatType.PRIVATE and not shown.latest):
        return event
    if not 1 <= number <= len(shown.buttons):
        return OutOfRange(number, len(shown.buttons))
    return dataclasses.replace(
        event,
        kind=EventKind.BUTTON,
        text=None,
        button_data=shown.buttons[number - 1]["data"],
        message_id=shown.message_id,
        callback_id=None,  # nothing to answer: the handler's note becomes a message
    )
