"""People in the sandbox talking to loa: write, tap, add the bot to groups, and read what loa
answered. Each step polls the sandbox and handles every pending update before it returns, so
tests read like a conversation and need no sleeps."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlmodel import select

from bot.config import DEFAULT_CONTENT_DIR
from bot.dispatch import Dispatcher
from bot.domain import Platform
from bot.inbox import Inbox
from bot.platforms.telegram import TelegramAdapter
from bot.sandbox import Sandbox
from bot.sandbox.client import SandboxClient
from bot.services.units import sync_units
from bot.storage.db import Database
from bot.storage.models import Chat, Person, Role, Unit, utcnow
from content.templates import Templates
from content.units import load_units
from handlers import build_router

TOKEN = "1000000007:loa-world-token"
BOT_ID = 1000000007
UNITS = Path(__file__).parent / "audiences" / "units.yaml"


@dataclass
class World:
    db: Database
    sandbox: SandboxClient
    adapter: TelegramAdapter
    inbox: Inbox
    _seen: dict[int, int] = field(default_factory=dict)  # chat → messages already read
    _forged: int = 0

    async def pump(self) -> None:
        """Fetch every update the sandbox holds for loa and handle it."""
        while True:
            updates = await self.adapter.poll(0)
            for raw in updates:
                await self.inbox.accept(Platform.TELEGRAM, raw)
            handled = await self.inbox.process_pending()
            if not updates and not handled:
                return

    async def person(self, name: str) -> int:
        """A sandbox user who has opened the bot (Telegram then sends /start) and read the
        welcome. A private chat's id is the user's."""
        user = await self.sandbox.create_user(name)
        await self.sandbox.create_chat("", type="private", user_id=user)
        await self.sandbox.add_member(user, BOT_ID)
        await self.say(user, "/start")
        return user

    async def say(self, user: int, text: str) -> list[str]:
        """`user` writes `text` to the bot in private; the bot's new messages there."""
        await self.sandbox.write(user, user, text)
        await self.pump()
        return await self.news(user)

    async def news(self, chat: int) -> list[str]:
        """The bot's messages in `chat` since the last look."""
        messages = await self.bot_messages(chat)
        seen = self._seen.get(chat, 0)
        self._seen[chat] = len(messages)
        return [m["text"] for m in messages[seen:]]

    async def bot_messages(self, chat: int) -> list[dict[str, Any]]:
        return [m for m in await self.sandbox.messages(chat) if m["sender"]["id"] == BOT_ID]

    async def last_buttons(self, chat: int) -> list[tuple[str, str]]:
        """(label, data) of the buttons of the bot's last message in `chat` that has any."""
        for message in reversed(await self.bot_messages(chat)):
            markup = message.get("reply_markup")
            if markup:
                rows = markup["inline_keyboard"]
                return [(b["text"], b["callback_data"]) for row in rows for b in row]
        return []

    async def press(self, chat: int, user: int, data: str) -> str | None:
        """`user` taps the button with `data` on the bot's last message carrying buttons;
        returns the toast loa answered with (None: answered silently)."""
        for message in reversed(await self.bot_messages(chat)):
            if message.get("reply_markup"):
                target = message["message_id"]
                break
        else:
            raise AssertionError(f"no message with buttons in chat {chat}")
        callback = await self.sandbox.press(chat, user, target, data)
        await self.pump()
        return await self._toast(callback)

    async def _toast(self, callback: str) -> str | None:
        """What loa answered a tap with (the sandbox logs refused answers too)."""
        for call in await self.sandbox.log(method="answerCallbackQuery"):
            if call["params"].get("callback_query_id") == callback:
                text: str | None = call["params"].get("text")
                return text
        return None

    async def forge_press(self, chat: int, user: int, data: str) -> str | None:
        """A tap with data no button carries, as a modified client can send: straight into
        loa's inbox, as Telegram would deliver it. Returns the toast loa answered with."""
        message = (await self.bot_messages(chat))[-1]
        self._forged += 1
        callback = f"forged-{self._forged}"
        update = {
            "update_id": 900_000_000 + self._forged,
            "callback_query": {
                "id": callback,
                "from": {"id": user, "is_bot": False, "first_name": "Forger"},
                "chat_instance": "1",
                "data": data,
                "message": {
                    "message_id": message["message_id"],
                    "date": 0,
                    "chat": {"id": chat, "type": "group" if chat < 0 else "private"},
                },
            },
        }
        await self.inbox.accept(Platform.TELEGRAM, update)
        await self.pump()
        return await self._toast(callback)

    async def group(self, title: str, members: list[int]) -> int:
        return await self.sandbox.create_chat(title, members=members)

    async def add_bot(self, group: int, by: int) -> list[str]:
        await self.sandbox.add_member(group, BOT_ID, by_user_id=by)
        await self.pump()
        return await self.news(group)

    async def bound_group(
        self, title: str, unit_code: str, audience: str, members: list[int]
    ) -> int:
        """A group with the bot in it, already bound (binding has its own tests)."""
        group = await self.sandbox.create_chat(title, members=[*members, BOT_ID])
        async with self.db.session() as session:
            session.add(
                Chat(
                    platform="telegram",
                    platform_chat_id=str(group),
                    type="group",
                    title=title,
                    unit_id=await self.unit(unit_code),
                    audience=audience,
                    member_count=len(members),
                    member_count_at=utcnow(),
                )
            )
            await session.commit()
        return group

    async def person_id(self, user: int) -> int | None:
        async with self.db.session() as session:
            query = select(Person.id).where(Person.platform_user_id == str(user))
            return (await session.exec(query)).first()

    async def unit(self, code: str) -> int:
        async with self.db.session() as session:
            unit_id = (await session.exec(select(Unit.id).where(Unit.code == code))).one()
            assert unit_id is not None
            return unit_id

    async def grant(self, user: int, role: str, unit_code: str) -> None:
        """Give a sandbox user a role directly (the invite flow has its own tests)."""
        person = await self.person_id(user)
        assert person is not None
        async with self.db.session() as session:
            session.add(Role(person_id=person, role=role, unit_id=await self.unit(unit_code)))
            await session.commit()


@asynccontextmanager
async def chat_world(db: Database) -> AsyncIterator[World]:
    await sync_units(db, load_units(UNITS))
    sandbox = Sandbox()
    url = await sandbox.start("127.0.0.1", 0)
    adapter = TelegramAdapter(TOKEN, url, timeout=5.0)
    async with SandboxClient(url) as client:
        await client.register_bot(TOKEN)
        await adapter.start()
        templates = Templates(DEFAULT_CONTENT_DIR / "templates")
        inbox = Inbox(
            db, {Platform.TELEGRAM: adapter}, Dispatcher(build_router(), db=db, templates=templates)
        )
        try:
            yield World(db, client, adapter, inbox)
        finally:
            await adapter.stop()
            await sandbox.stop()
