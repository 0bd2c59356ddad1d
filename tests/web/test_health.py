"""GET /healthz fails while the sender has work and makes no progress, and recovers with it."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy import text

from bot.delivery.sender import Sender
from bot.domain import InboundEvent, Platform, Reply
from bot.inbox import Inbox
from bot.platforms.base import PlatformAdapter
from bot.platforms.telegram import TelegramAdapter
from bot.sandbox import Sandbox
from bot.sandbox.client import SandboxClient
from bot.services.broadcasts import Broadcast, enqueue
from bot.storage import deliveries
from bot.storage.db import Database
from bot.storage.models import Chat
from bot.web import create_web_app
from tests.delivery.conftest import BOT_ID, TOKEN
from tests.handlers.fakes import FakePlatform, Harness, message

Client = TestClient[Any, Any]


@pytest.fixture
async def adapter_and_groups(any_db: Database) -> AsyncIterator[tuple[TelegramAdapter, list[int]]]:
    """A sandbox with three groups the bot is in, and their chat rows."""
    sandbox = Sandbox()
    url = await sandbox.start(host="127.0.0.1", port=0)
    adapter = TelegramAdapter(TOKEN, url, timeout=1.0)
    await adapter.start()
    async with SandboxClient(url) as client:
        chats = []
        async with any_db.session() as s:
            for i in range(3):
                platform_id = await client.create_chat(f"Nhóm {i}", members=[BOT_ID])
                chat = Chat(platform="telegram", platform_chat_id=str(platform_id), type="group")
                s.add(chat)
                chats.append(chat)
            await s.commit()
        yield adapter, [c.id for c in chats if c.id is not None]
    await adapter.stop()
    await sandbox.stop()


async def health(client: Client) -> tuple[int, dict[str, Any]]:
    response = await client.get("/healthz")
    return response.status, await response.json()


async def test_healthz_fails_while_the_sender_is_stuck_and_recovers_with_it(
    any_db: Database, adapter_and_groups: tuple[TelegramAdapter, list[int]]
) -> None:
    adapter, chats = adapter_and_groups
    await enqueue(any_db, Broadcast(key="k", title="t", text="Họp phụ huynh"), chats)
    platforms = {adapter.platform: adapter}
    sender = Sender(any_db, platforms, rates={adapter.platform: 0}, stall_after_s=0.5)
    app = create_web_app(
        inbox=Harness(any_db).inbox, adapters={}, webhook_secret=None, sender_stalls=sender.stalls
    )
    client: Client = TestClient(TestServer(app))
    await client.start_server()
    assert await health(client) == (
        200,
        {"status": "ok", "db": "ok", "sender": "ok", "inbox": "ok"},
    )

    # Another connection holds the outbox's write lock: the sender's turn cannot finish, while
    # the database still answers the health check's query.
    blocker = await any_db.engine.connect()
    await blocker.begin()  # SQLite: BEGIN IMMEDIATE, the write lock
    if not any_db.is_sqlite:
        await blocker.execute(text("LOCK TABLE deliveries IN EXCLUSIVE MODE"))
    stop = asyncio.Event()
    task = asyncio.create_task(sender.run(stop))
    try:
        deadline = time.monotonic() + 5
        while (answer := await health(client))[0] == 200 and time.monotonic() < deadline:
            await asyncio.sleep(0.1)
        status, body = answer
        assert status == 503
        assert body["status"] == "error" and body["db"] == "ok"
        assert body["sender"]["telegram"].startswith("no progress for")
    finally:
        await blocker.rollback()
        await blocker.close()

    try:
        deadline = time.monotonic() + 20
        while (await deliveries.status_counts(any_db)).get("sent") != 3:
            assert time.monotonic() < deadline, "the sender did not resume"
            await asyncio.sleep(0.1)
        assert await health(client) == (
            200,
            {"status": "ok", "db": "ok", "sender": "ok", "inbox": "ok"},
        )
    finally:
        stop.set()
        await task
        await client.close()


class Stuck:
    """A router whose handler waits until it is let go."""

    def __init__(self) -> None:
        self.go = asyncio.Event()

    async def dispatch(self, event: InboundEvent, adapter: PlatformAdapter) -> list[Reply]:
        await self.go.wait()
        return []

    async def give_up(self, event: InboundEvent, adapter: PlatformAdapter) -> list[Reply]:
        return []


async def test_healthz_fails_while_the_inbox_makes_no_progress(db: Database) -> None:
    router, platform = Stuck(), FakePlatform()
    inbox = Inbox(db, {Platform.TELEGRAM: platform}, router, stall_after_s=0.3)
    app = create_web_app(inbox=inbox, adapters=inbox.adapters, webhook_secret=None)
    stop = asyncio.Event()
    async with TestClient(TestServer(app)) as client:
        running = asyncio.create_task(inbox.run(stop))
        assert (await health(client))[0] == 200, "nothing to do is no stall"
        await inbox.accept(Platform.TELEGRAM, message("/huongdan"))
        await asyncio.sleep(0.5)
        status, body = await health(client)
        assert status == 503 and body["inbox"].startswith("no update finished for")
        router.go.set()
        for _ in range(50):
            if (await health(client))[0] == 200:
                break
            await asyncio.sleep(0.05)
        assert (await health(client))[1]["inbox"] == "ok"
        stop.set()
        await running
