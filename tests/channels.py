"""One conversation, whatever the platform: people in the sandbox write, answer what loa offers
and read what it said, on Telegram (buttons), Zalo Bot (numbered replies typed back) or Zalo OA
(`oa.query.show` buttons, whose payload comes back as the follower's text).

`Talk` is what a platform-neutral test speaks; a platform adds one class. Every step takes
every adapter's pending updates (Zalo OA's: the events the sandbox's OA emitted, as its webhook
would post them; the signed webhook itself is tests/zalo_oa/test_webhook.py's) and handles
them before it returns."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any, Protocol

from bot.config import DEFAULT_CONTENT_DIR
from bot.dispatch import Dispatcher
from bot.domain import Platform
from bot.inbox import Inbox
from bot.platforms.base import PlatformAdapter
from bot.platforms.telegram import TelegramAdapter
from bot.platforms.zalo_bot import ZaloBotAdapter
from bot.platforms.zalo_oa import ZaloOaAdapter
from bot.sandbox import Sandbox
from bot.sandbox.client import SandboxClient
from bot.sandbox.zalo_bot_api import private_chat_id
from bot.sandbox.zalo_oa_api import APP_ID, FIRST_REFRESH_TOKEN, OA_ID, SECRET_KEY
from bot.services.numbered import NumberedStore
from bot.services.units import sync_units
from bot.services.zalo_oa_store import ZaloOaStore
from bot.storage.db import Database
from bot.storage.models import Chat, Person, Role, Unit, utcnow
from content.templates import Templates
from content.units import load_units
from handlers import build_router
from tests.chatworld import UNITS

TELEGRAM_TOKEN = "1000000007:loa-world-token"
ZALO_TOKEN = "1000000008:loa-zalo-world-token"
BOTS = {Platform.TELEGRAM: 1000000007, Platform.ZALO_BOT: 1000000008, Platform.ZALO_OA: OA_ID}
ZALO_MENTION = "@Loa Sandbox"  # the sandbox's bots are called "Loa Sandbox"
_NUMBERED = re.compile(r"^(?:Trả lời )?(\d+)(?:\. | nếu )(.+?)\.?$")


@dataclass
class Loa:
    """loa with an adapter per platform, one inbox, and the sandbox they talk to."""

    db: Database
    sandbox: SandboxClient
    adapters: dict[Platform, PlatformAdapter]
    inbox: Inbox
    oa_events: list[dict[str, Any]]  # what the sandbox's OA emitted, in order
    _oa_taken: int = 0

    async def updates(self, platform: Platform) -> list[dict[str, Any]]:
        """The platform's pending updates: polled, or (Zalo OA, webhook only) emitted."""
        if platform is not Platform.ZALO_OA:
            return await self.adapters[platform].poll(0)
        taken, self._oa_taken = self.oa_events[self._oa_taken :], len(self.oa_events)
        return taken

    async def pump(self) -> None:
        while True:
            got = 0
            for platform in self.adapters:
                while updates := await self.updates(platform):
                    got += len(updates)
                    for raw in updates:
                        await self.inbox.accept(platform, raw)
            handled = await self.inbox.process_pending()
            if not got and not handled:
                return

    async def unit(self, code: str) -> int:
        async with self.db.session() as session:
            unit_id: int | None = (await session.exec(_unit_id(code))).one()
            assert unit_id is not None
            return unit_id


def _unit_id(code: str) -> Any:
    from sqlmodel import select

    return select(Unit.id).where(Unit.code == code)


class Talk(Protocol):
    """What a person does in one platform's chats, and what they read there."""

    platform: Platform
    loa: Loa

    async def person(self, name: str) -> tuple[int, int]:
        """A sandbox user who opened a private chat with the bot: (user, chat)."""
        ...

    async def say(self, chat: int, user: int, text: str) -> list[str]:
        """`user` writes `text` in `chat` to the bot (in a group, naming it); loa's new
        messages there."""
        ...

    async def news(self, chat: int) -> list[str]:
        """loa's messages in `chat` since the last look."""
        ...

    def platform_id(self, user: int) -> str:
        """The sandbox user's id on this platform (what loa's Person holds)."""
        ...

    async def said(self, chat: int) -> list[str]:
        """Everything loa has said in `chat`."""
        ...

    async def photo(self, chat: int, user: int) -> list[str]:
        """`user` sends a photo to `chat`; loa's new messages there."""
        ...

    async def options(self, chat: int) -> list[str]:
        """The answers loa's latest offer in `chat` shows (buttons or numbered replies)."""
        ...

    async def choose(self, chat: int, user: int, label: str) -> list[str]:
        """`user` picks `label` among the offered answers; what loa said back (a tap's note,
        or its new messages)."""
        ...

    async def bound_group(
        self, title: str, unit_code: str, audience: str, members: list[int]
    ) -> int: ...

    async def audience_chats(
        self, title: str, unit_code: str, audience: str, members: list[int]
    ) -> dict[int, int]:
        """Where each member reads the unit's posts: one bound group on Telegram and Zalo
        Bot; on Zalo OA each follower's own chat with the OA (posts to an OA group go
        without buttons, so nobody could answer them there)."""
        ...


@dataclass
class _Base:
    loa: Loa
    _seen: dict[int, int] = field(default_factory=dict)

    platform: Platform = Platform.TELEGRAM

    @property
    def bot(self) -> int:
        return BOTS[self.platform]

    async def bot_messages(self, chat: int) -> list[dict[str, Any]]:
        return [m for m in await self.loa.sandbox.messages(chat) if m["sender"]["id"] == self.bot]

    async def said(self, chat: int) -> list[str]:
        return [m["text"] or m["caption"] or "" for m in await self.bot_messages(chat)]

    async def news(self, chat: int) -> list[str]:
        messages = await self.bot_messages(chat)
        seen = self._seen.get(chat, 0)
        self._seen[chat] = len(messages)
        return [m["text"] or m["caption"] or "" for m in messages[seen:]]

    async def bound_group(
        self, title: str, unit_code: str, audience: str, members: list[int]
    ) -> int:
        group = await self.loa.sandbox.create_chat(
            title, platform=self.platform, members=[*members, self.bot]
        )
        counts = self.platform is Platform.TELEGRAM  # Zalo Bot cannot count members
        await self.bind([str(group)], "group", title, unit_code, audience,
                        len(members) if counts else None)  # fmt: skip
        return group

    async def bind(
        self,
        ids: list[str],
        kind: str,
        title: str,
        unit_code: str,
        audience: str,
        members: int | None,
    ) -> None:
        """loa's chats `ids` bound to the unit for `audience`, as binding leaves them."""
        unit = await self.loa.unit(unit_code)
        async with self.loa.db.session() as session:
            for platform_chat_id in ids:
                session.add(
                    Chat(
                        platform=self.platform,
                        platform_chat_id=platform_chat_id,
                        type=kind,
                        title=title,
                        unit_id=unit,
                        audience=audience,
                        member_count=members,
                        member_count_at=None if members is None else utcnow(),
                    )
                )
            await session.commit()

    async def audience_chats(
        self, title: str, unit_code: str, audience: str, members: list[int]
    ) -> dict[int, int]:
        group = await self.bound_group(title, unit_code, audience, members)
        return dict.fromkeys(members, group)

    async def write(self, chat: int, user: int, text: str) -> list[str]:
        await self.loa.sandbox.write(chat, user, text)
        await self.loa.pump()
        return await self.news(chat)


@dataclass
class _Buttons(_Base):
    """Offers as buttons (Telegram's inline keyboard; the sandbox shows Zalo OA's alike)."""

    async def _offer(self, chat: int) -> dict[str, Any]:
        for message in reversed(await self.bot_messages(chat)):
            if message.get("reply_markup"):
                found: dict[str, Any] = message
                return found
        raise AssertionError(f"no offer in chat {chat}")

    async def options(self, chat: int) -> list[str]:
        rows = (await self._offer(chat))["reply_markup"]["inline_keyboard"]
        return [b["text"] for row in rows for b in row]

    async def _data(self, chat: int, label: str) -> tuple[dict[str, Any], str]:
        offer = await self._offer(chat)
        rows = offer["reply_markup"]["inline_keyboard"]
        [data] = [b["callback_data"] for row in rows for b in row if b["text"] == label]
        return offer, data


@dataclass
class TelegramTalk(_Buttons):
    platform: Platform = Platform.TELEGRAM

    async def person(self, name: str) -> tuple[int, int]:
        user = await self.loa.sandbox.create_user(name)
        await self.loa.sandbox.create_chat("", type="private", user_id=user)
        await self.loa.sandbox.add_member(user, self.bot)
        await self.say(user, user, "/start")
        return user, user

    async def say(self, chat: int, user: int, text: str) -> list[str]:
        """In a group (negative ids), said to loa: naming it."""
        if chat < 0:
            adapter = self.loa.adapters[self.platform]
            assert isinstance(adapter, TelegramAdapter)
            text = f"@{adapter.username} {text}"
        return await self.write(chat, user, text)

    def platform_id(self, user: int) -> str:
        return str(user)

    async def photo(self, chat: int, user: int) -> list[str]:
        await self.loa.sandbox.send_file(chat, user, "photo", data=b"\xff\xd8 a photo")
        await self.loa.pump()
        return await self.news(chat)

    async def choose(self, chat: int, user: int, label: str) -> list[str]:
        offer, data = await self._data(chat, label)
        callback = await self.loa.sandbox.press(chat, user, offer["message_id"], data)
        await self.loa.pump()
        said = await self.news(chat)
        for call in await self.loa.sandbox.log(method="answerCallbackQuery"):
            if call["params"].get("callback_query_id") == callback and call["params"].get("text"):
                said.insert(0, call["params"]["text"])
        return said


@dataclass
class ZaloBotTalk(_Base):
    platform: Platform = Platform.ZALO_BOT

    async def person(self, name: str) -> tuple[int, int]:
        user = await self.loa.sandbox.create_user(name)
        chat = await self.loa.sandbox.create_chat(
            "", type="private", platform=self.platform, user_id=user, members=[self.bot]
        )
        await self.say(chat, user, "/start")
        return user, chat

    def platform_id(self, user: int) -> str:
        return str(private_chat_id(user))

    async def photo(self, chat: int, user: int) -> list[str]:
        body = {"user_id": user, "kind": "image"}
        await self.loa.sandbox.call("POST", f"chats/{chat}/messages", body)
        await self.loa.pump()
        return await self.news(chat)

    async def say(self, chat: int, user: int, text: str) -> list[str]:
        """In a group, Zalo shows the bot only what mentions it."""
        group = chat >= 8_000_000_000_000
        return await self.write(chat, user, f"{ZALO_MENTION} {text}" if group else text)

    async def _numbered(self, chat: int) -> dict[str, str]:
        """label → number, read from loa's latest message that offers numbers."""
        for message in reversed(await self.bot_messages(chat)):
            lines = (message["text"] or "").splitlines()
            found = {m[2]: m[1] for line in lines if (m := _NUMBERED.match(line.strip()))}
            if found:
                return found
        raise AssertionError(f"no numbered replies in chat {chat}")

    async def options(self, chat: int) -> list[str]:
        return list(await self._numbered(chat))

    async def choose(self, chat: int, user: int, label: str) -> list[str]:
        numbers = await self._numbered(chat)
        folded = {k.lower(): v for k, v in numbers.items()}
        return await self.say(chat, user, numbers.get(label) or folded[label.lower()])


@dataclass
class ZaloOaTalk(_Buttons):
    """A follower's chat with the OA is their user id; they write only there (1:1)."""

    platform: Platform = Platform.ZALO_OA

    async def person(self, name: str) -> tuple[int, int]:
        user = await self.loa.sandbox.create_user(name)
        await self.loa.sandbox.call("POST", "zalo-oa/followers", {"user_id": user})
        await self.say(user, user, "/start")
        return user, user

    def platform_id(self, user: int) -> str:
        return str(user)

    async def say(self, chat: int, user: int, text: str) -> list[str]:
        assert chat == user, "an OA follower writes only in their own chat"
        return await self.write(chat, user, text)

    async def photo(self, chat: int, user: int) -> list[str]:
        raise AssertionError("loa reads no images from Zalo OA (only user_send_text)")

    async def choose(self, chat: int, user: int, label: str) -> list[str]:
        """A tap on an `oa.query.show` button: Zalo sends its payload as the follower's text."""
        _, data = await self._data(chat, label)
        return await self.say(chat, user, data)

    async def audience_chats(
        self, title: str, unit_code: str, audience: str, members: list[int]
    ) -> dict[int, int]:
        """Each follower's chat bound to the unit, one member each (as sandbox mode binds
        them, bot/services/zalo_oa_demo.py)."""
        await self.bind([str(u) for u in members], "private", title, unit_code, audience, 1)
        return {user: user for user in members}

    async def seen(self, user: int) -> None:
        """The follower opens what the OA sent them (`user_seen_message`)."""
        await self.loa.sandbox.call("POST", "zalo-oa/seen", {"user_id": user})
        await self.loa.pump()


TALKS: dict[Platform, Callable[[Loa], Talk]] = {
    Platform.TELEGRAM: TelegramTalk,
    Platform.ZALO_BOT: ZaloBotTalk,
    Platform.ZALO_OA: ZaloOaTalk,
}


@asynccontextmanager
async def loa_on_every_platform(db: Database) -> AsyncIterator[Loa]:
    """loa running on Telegram, Zalo Bot and Zalo OA at once against one sandbox, units of
    the audiences' ward synced."""
    await sync_units(db, load_units(UNITS))
    sandbox = Sandbox()
    url = await sandbox.start("127.0.0.1", 0)
    templates = Templates(DEFAULT_CONTENT_DIR / "templates")
    adapters: dict[Platform, PlatformAdapter] = {
        Platform.TELEGRAM: TelegramAdapter(TELEGRAM_TOKEN, url, timeout=5.0),
        Platform.ZALO_BOT: ZaloBotAdapter(
            ZALO_TOKEN, f"{url}/zalo", templates, numbers=NumberedStore(db), timeout=5.0
        ),
        Platform.ZALO_OA: ZaloOaAdapter(
            ZaloOaStore(db, APP_ID),
            app_id=APP_ID,
            secret_key=SECRET_KEY,
            refresh_token=FIRST_REFRESH_TOKEN,
            api_url=f"{url}/zalo-oa",
            oauth_url=f"{url}/zalo-oa",
            timeout=5.0,
        ),
    }
    async with SandboxClient(url) as client:
        for adapter in adapters.values():
            await adapter.start()
        inbox = Inbox(db, adapters, Dispatcher(build_router(), db=db, templates=templates))
        try:
            yield Loa(db, client, adapters, inbox, sandbox.zalo_oa.state.events)
        finally:
            for adapter in adapters.values():
                await adapter.stop()
            await sandbox.stop()


async def grant(loa: Loa, talk: Talk, user: int, role: str, unit_code: str) -> None:
    """A role given directly (the invite flow has its own tests)."""
    platform, platform_user_id = talk.platform, talk.platform_id(user)
    from sqlmodel import select

    unit = await loa.unit(unit_code)
    async with loa.db.session() as session:
        query = select(Person.id).where(
            Person.platform == platform, Person.platform_user_id == platform_user_id
        )
        person = (await session.exec(query)).one()
        assert person is not None
        session.add(Role(person_id=person, role=role, unit_id=unit))
        await session.commit()
