"""People write and tap in the sandbox; loa hears them by polling or by webhook and answers."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass

import aiohttp
import pytest
from aiohttp import web
from sqlmodel import func, select

from bot.config import DEFAULT_CONTENT_DIR
from bot.delivery.sender import ChannelSender
from bot.dispatch import Dispatcher
from bot.domain import Button, Platform
from bot.inbox import Inbox
from bot.platforms.telegram import TelegramAdapter
from bot.sandbox import Sandbox
from bot.sandbox.client import SandboxClient
from bot.services.broadcasts import Broadcast, enqueue
from bot.storage.db import Database
from bot.storage.models import Chat, Feedback, InboxUpdate
from bot.web import create_web_app
from content.templates import Templates
from handlers import build_router

TOKEN = "1000000007:loa-e2e-token-xyz"
BOT_ID = 1000000007
SECRET = "e2e-secret_123"


@dataclass
class Loa:
    sandbox: SandboxClient
    inbox: Inbox
    adapter: TelegramAdapter
    parent: int  # a sandbox user

    async def bot_messages(self, chat: int, *, at_least: int = 1) -> list[str]:
        """The bot's messages in a chat, waiting (a little) for them to arrive."""
        async with asyncio.timeout(10):
            while True:
                texts = [
                    m["text"]
                    for m in await self.sandbox.messages(chat)
                    if m["sender"]["id"] == BOT_ID
                ]
                if len(texts) >= at_least:
                    return texts
                await asyncio.sleep(0.05)


@pytest.fixture
async def world(db: Database) -> AsyncIterator[tuple[Sandbox, str, TelegramAdapter, Inbox]]:
    sandbox = Sandbox()
    url = await sandbox.start("127.0.0.1", 0)
    adapter = TelegramAdapter(TOKEN, url, timeout=2.0)
    await adapter.start()
    templates = Templates(DEFAULT_CONTENT_DIR / "templates")
    inbox = Inbox(
        db,
        {Platform.TELEGRAM: adapter},
        Dispatcher(build_router(), db=db, templates=templates),
        poll_timeout=1.0,
    )
    yield sandbox, url, adapter, inbox
    await adapter.stop()
    await sandbox.stop()


async def start_parent(url: str, adapter: TelegramAdapter, inbox: Inbox) -> Loa:
    client = SandboxClient(url)
    await client.__aenter__()
    parent = await client.create_user("Trần Thị Bình")
    await client.create_chat("", type="private", user_id=parent)
    await client.add_member(parent, BOT_ID)  # the parent opens the bot
    return Loa(client, inbox, adapter, parent)


async def test_polling_start_ack_and_no_double_handling(
    db: Database, world: tuple[Sandbox, str, TelegramAdapter, Inbox]
) -> None:
    _, url, adapter, inbox = world
    loa = await start_parent(url, adapter, inbox)
    stop = asyncio.Event()
    tasks = [
        asyncio.create_task(inbox.poll_forever(Platform.TELEGRAM, stop)),
        asyncio.create_task(inbox.run(stop)),
    ]
    try:
        await loa.sandbox.call(
            "POST", f"chats/{loa.parent}/messages", {"user_id": loa.parent, "text": "/start"}
        )
        [welcome] = await loa.bot_messages(loa.parent)
        assert welcome.startswith("Xin chào Trần Thị Bình!")
        assert "/xoadulieu" in welcome

        # An item with Đã hiểu reaches a parents' group; a parent taps it twice.
        group = await loa.sandbox.create_chat("Phụ huynh lớp 1A", members=[loa.parent, BOT_ID])
        async with db.session() as s:
            chat = Chat(
                platform="telegram",
                platform_chat_id=str(group),
                type="group",
                audience="staff",
                member_count=1,
            )
            s.add(chat)
            await s.commit()
            assert chat.id is not None
        item = Broadcast(
            key="e2e",
            title="NQ71",
            text="<b>Nghị quyết 71</b>",
            buttons=(Button("Đã hiểu", "ack:{occurrence}"),),
        )
        occurrence = await enqueue(db, item, [chat.id])
        sending = asyncio.create_task(ChannelSender(db, adapter, rate_per_s=0).run(stop))
        tasks.append(sending)
        [post] = [m for m in await _wait_for_post(loa, group)]
        for _ in range(2):
            await loa.sandbox.call(
                "POST",
                f"chats/{group}/press",
                {"user_id": loa.parent, "message_id": post, "callback_data": f"ack:{occurrence}"},
            )
        answers = await _callback_answers(loa, at_least=2)
        assert answers[0].startswith("Cảm ơn") and answers[0] != answers[1]
        async with db.session() as s:
            acks = (await s.exec(select(func.count()).select_from(Feedback))).one()
            updates = (await s.exec(select(func.count()).select_from(InboxUpdate))).one()
        assert acks == 1
        assert updates >= 3  # /start and two taps (plus the bot's membership updates)
        assert len(await loa.bot_messages(loa.parent)) == 1, "/start answered exactly once"
    finally:
        stop.set()
        await asyncio.wait_for(asyncio.gather(*tasks), 10)
        await loa.sandbox.__aexit__()


async def test_webhook_with_secret_and_retried_delivery_handled_once(
    db: Database, world: tuple[Sandbox, str, TelegramAdapter, Inbox]
) -> None:
    _, url, adapter, inbox = world
    loa = await start_parent(url, adapter, inbox)
    app = create_web_app(
        db=db, inbox=inbox, adapters={Platform.TELEGRAM: adapter}, webhook_secret=SECRET
    )
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    stop = asyncio.Event()
    processing = asyncio.create_task(inbox.run(stop))
    try:
        await adapter.set_webhook(f"http://127.0.0.1:{port}/webhook/telegram", SECRET)
        await loa.sandbox.call(
            "POST", f"chats/{loa.parent}/messages", {"user_id": loa.parent, "text": "trợ giúp"}
        )
        notice, help_text = await loa.bot_messages(loa.parent, at_least=2)
        assert notice.startswith("Về dữ liệu cá nhân"), "first contact: the privacy notice"
        assert help_text.startswith("Hướng dẫn sử dụng")
        # The platform retries what it thinks failed: the same update twice is handled once.
        async with asyncio.timeout(10):  # replies leave just before the row is marked handled
            while True:
                async with db.session() as s:
                    newest = select(InboxUpdate).order_by(InboxUpdate.id.desc())  # type: ignore[union-attr]
                    stored = (await s.exec(newest)).first()
                if stored is not None and stored.handled_at is not None:
                    break
                await asyncio.sleep(0.02)
        assert stored.payload == {}, "a handled update keeps no payload (who, what they wrote)"
        update = {
            "update_id": int(stored.key),
            "message": {
                "message_id": 1,
                "date": 0,
                "chat": {"id": loa.parent, "type": "private", "first_name": "Bình"},
                "from": {"id": loa.parent, "is_bot": False, "first_name": "Bình"},
                "text": "trợ giúp",
            },
        }
        async with aiohttp.ClientSession() as http:
            for _ in range(2):
                async with http.post(
                    f"http://127.0.0.1:{port}/webhook/telegram",
                    json=update,
                    headers={"X-Telegram-Bot-Api-Secret-Token": SECRET},
                ) as r:
                    assert r.status == 200
            async with http.post(
                f"http://127.0.0.1:{port}/webhook/telegram",
                json=update,
                headers={"X-Telegram-Bot-Api-Secret-Token": "wrong"},
            ) as r:
                assert r.status == 403
        await asyncio.sleep(0.5)
        assert len(await loa.bot_messages(loa.parent)) == 2
    finally:
        stop.set()
        await asyncio.wait_for(processing, 10)
        await runner.cleanup()
        await loa.sandbox.__aexit__()


async def _wait_for_post(loa: Loa, group: int) -> list[int]:
    async with asyncio.timeout(10):
        while True:
            posts = [
                m["message_id"]
                for m in await loa.sandbox.messages(group)
                if m["sender"]["id"] == BOT_ID
            ]
            if posts:
                return posts
            await asyncio.sleep(0.05)


async def _callback_answers(loa: Loa, *, at_least: int) -> list[str]:
    async with asyncio.timeout(10):
        while True:
            calls = await loa.sandbox.log(method="answerCallbackQuery")
            texts = [c["params"].get("text", "") for c in calls if c["status"] == 200]
            if len(texts) >= at_least:
                return texts
            await asyncio.sleep(0.05)
