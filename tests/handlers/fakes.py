"""A recording stand-in for a Telegram-like platform: it parses a small subset of Telegram's
update shape and records what loa sends and answers, so tests can assert what a person sees."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping
from itertools import count
from pathlib import Path
from typing import Any

from sqlmodel import select

import content
from bot.dispatch import Dispatcher
from bot.domain import (
    Button,
    ChatType,
    EventKind,
    InboundEvent,
    OutboundMessage,
    Platform,
    PlatformUser,
)
from bot.inbox import Inbox
from bot.platforms.base import ChannelLimits, MalformedUpdate, SendResult
from bot.platforms.capabilities import CAPABILITIES
from bot.storage.db import Database
from bot.storage.models import Chat, Delivery, DeliveryStatus
from content.templates import Templates
from handlers import build_router

TEMPLATES_DIR = Path(content.__file__).parent / "templates"
_update_ids = count(1000)


def templates() -> Templates:
    return Templates(TEMPLATES_DIR)


class FakePlatform:
    platform = Platform.TELEGRAM
    capabilities = CAPABILITIES[Platform.TELEGRAM]
    limits = ChannelLimits(0, 0, 0)

    def __init__(self) -> None:
        self.sent: list[OutboundMessage] = []
        self.edits: list[tuple[str, str, str, tuple[Button, ...]]] = []
        self.answers: list[tuple[str, str | None]] = []
        self.batches: list[list[dict[str, Any]] | Exception] = []
        self.before_poll: Callable[[], Awaitable[None]] | None = None

    async def start(self) -> None: ...

    async def stop(self) -> None: ...

    async def send(self, message: OutboundMessage) -> SendResult:
        self.sent.append(message)
        return SendResult(message_id=str(len(self.sent)))

    async def edit_text(
        self, chat_id: str, message_id: str, text: str, buttons: tuple[Button, ...] = ()
    ) -> None:
        self.edits.append((chat_id, message_id, text, buttons))

    async def answer_button(self, callback_id: str, text: str | None = None) -> None:
        self.answers.append((callback_id, text))

    async def member_count(self, chat_id: str) -> int:
        return 1

    def start_link(self, payload: str) -> str | None:
        return f"https://t.me/loa_test_bot?start={payload}"

    async def poll(self, timeout: float) -> list[dict[str, Any]]:
        if self.before_poll is not None:
            await self.before_poll()
        if not self.batches:
            await asyncio.sleep(timeout)
            return []
        batch = self.batches.pop(0)
        if isinstance(batch, Exception):
            raise batch
        return batch

    async def set_webhook(self, url: str, secret: str) -> None: ...

    async def delete_webhook(self) -> None: ...

    def update_key(self, raw: Mapping[str, Any]) -> str:
        update_id = raw.get("update_id")
        if not isinstance(update_id, int):
            raise MalformedUpdate("update_id is not an integer")
        return str(update_id)

    def parse_update(self, raw: Mapping[str, Any]) -> InboundEvent | None:
        self.update_key(raw)
        if "message" in raw:
            msg = _obj(raw["message"])
            chat, user = _obj(msg.get("chat")), _obj(msg.get("from"))
            text = str(msg.get("text", ""))
            command, args = None, ""
            if text.startswith("/"):
                head, _, args = text[1:].partition(" ")
                command = head.split("@")[0].lower()
            return InboundEvent(
                Platform.TELEGRAM, EventKind.MESSAGE, chat_id=str(chat["id"]),
                chat_type=_chat_type(chat), user=_user(user), text=text, command=command,
                args=args.strip(), message_id=str(msg["message_id"]),
            )  # fmt: skip
        if "callback_query" in raw:
            query = _obj(raw["callback_query"])
            tapped = _obj(query.get("message"))
            chat = _obj(tapped.get("chat"))
            return InboundEvent(
                Platform.TELEGRAM, EventKind.BUTTON, chat_id=str(chat["id"]),
                chat_type=_chat_type(chat), user=_user(_obj(query.get("from"))),
                button_data=str(query["data"]), callback_id=str(query["id"]),
                message_id=str(tapped["message_id"]),
            )  # fmt: skip
        return None


def message(
    text: str, *, chat_type: str = "private", user_id: int = 7, name: str = "Lan",
    update_id: int | None = None,
) -> dict[str, Any]:  # fmt: skip
    """A Telegram-shaped update: `name` writes `text` in a private chat (or group -100)."""
    uid = next(_update_ids) if update_id is None else update_id
    chat_id = user_id if chat_type == "private" else -100
    return {
        "update_id": uid,
        "message": {
            "message_id": uid, "date": 0, "text": text,
            "chat": {"id": chat_id, "type": chat_type},
            "from": {"id": user_id, "is_bot": False, "first_name": name},
        },
    }  # fmt: skip


def tap(
    data: str, *, user_id: int = 7, name: str = "Lan", update_id: int | None = None
) -> dict[str, Any]:
    """A Telegram-shaped update: `name` taps a button with `data` under a post in group -100."""
    uid = next(_update_ids) if update_id is None else update_id
    return {
        "update_id": uid,
        "callback_query": {
            "id": f"cb{uid}", "data": data, "chat_instance": "1",
            "from": {"id": user_id, "is_bot": False, "first_name": name},
            "message": {"message_id": 1, "date": 0, "chat": {"id": -100, "type": "group"}},
        },
    }  # fmt: skip


async def deliver_post(
    db: Database, occurrence_id: int, *, chat: str = "-100", message_id: str = "1"
) -> None:
    """Record `occurrence_id` as sent to group `chat` as message `message_id` (where `tap`
    taps), creating the chat if needed: a tap counts only on a post delivered there."""
    async with db.session() as session:
        found = (
            await session.exec(select(Chat).where(Chat.platform_chat_id == chat))
        ).first() or Chat(platform="telegram", platform_chat_id=chat, type="group")
        session.add(found)
        await session.flush()
        assert found.id is not None
        session.add(
            Delivery(
                occurrence_id=occurrence_id, chat_id=found.id, platform="telegram",
                status=DeliveryStatus.SENT, platform_message_id=message_id,
            )
        )  # fmt: skip
        await session.commit()


def _obj(value: Any) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise MalformedUpdate("not an object")
    return value


def _chat_type(chat: Mapping[str, Any]) -> ChatType:
    return ChatType.PRIVATE if chat.get("type") == "private" else ChatType.GROUP


def _user(user: Mapping[str, Any]) -> PlatformUser:
    return PlatformUser(str(user["id"]), str(user.get("first_name", "")))


class Harness:
    """loa's inbound path (inbox → router → handlers) in front of a FakePlatform."""

    def __init__(self, db: Database, **inbox_options: Any) -> None:
        self.db = db
        self.platform = FakePlatform()
        adapters = {Platform.TELEGRAM: self.platform}
        self.inbox = Inbox(
            db, adapters, Dispatcher(build_router(), db=db, templates=templates()), **inbox_options
        )

    async def deliver(self, *raws: dict[str, Any]) -> None:
        """The platform delivers `raws`; loa persists and handles them."""
        for raw in raws:
            await self.inbox.accept(Platform.TELEGRAM, raw)
        await self.inbox.process_pending()

    def texts(self) -> list[str]:
        return [m.text for m in self.platform.sent]
