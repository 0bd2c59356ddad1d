"""A sandbox, a Telegram adapter on it, and groups that both the sandbox and loa know."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass

import pytest

from bot.delivery.sender import ChannelSender
from bot.platforms.telegram import TelegramAdapter
from bot.sandbox import Sandbox
from bot.sandbox.client import SandboxClient
from bot.storage import deliveries
from bot.storage.db import Database
from bot.storage.models import Chat, table_of, utcnow

TOKEN = "1000000001:loa-test-token-abc"
BOT_ID = 1000000001


@dataclass
class World:
    url: str
    sandbox: SandboxClient
    adapter: TelegramAdapter
    user: int

    async def groups(self, db: Database, n: int, audience: str = "staff") -> dict[int, int]:
        """n new groups with the bot in them; returns loa chat id → sandbox chat id."""
        platform_ids = await asyncio.gather(
            *(self.sandbox.create_chat(f"Nhóm {i}", members=[self.user, BOT_ID]) for i in range(n))
        )
        table = table_of(Chat)
        async with db.engine.begin() as conn:
            result = await conn.execute(
                table.insert().returning(table.c.id),
                [
                    {
                        "platform": "telegram",
                        "platform_chat_id": str(p),
                        "type": "group",
                        "title": f"Nhóm {i}",
                        "audience": audience,
                        "active": True,
                        "member_count": 1,
                        "member_count_at": utcnow(),
                    }
                    for i, p in enumerate(platform_ids)
                ],
            )
            ids = [int(i) for i in result.scalars()]
        return dict(zip(ids, platform_ids, strict=True))

    async def copies(self, platform_chat_id: int | str) -> int:
        """How many messages the bot has in a chat (what its members actually see)."""
        messages = await self.sandbox.messages(platform_chat_id)
        return sum(1 for m in messages if m["sender"]["id"] == BOT_ID)


@pytest.fixture
async def world() -> AsyncIterator[World]:
    sandbox = Sandbox(timeout_hold=3.0)
    url = await sandbox.start(host="127.0.0.1", port=0)
    adapter = TelegramAdapter(TOKEN, url, timeout=1.0)
    await adapter.start()
    async with SandboxClient(url) as client:
        user = await client.create_user("Nguyễn Văn An")
        yield World(url, client, adapter, user)
    await adapter.stop()
    await sandbox.stop()


async def send_all(sender: ChannelSender, db: Database, timeout: float = 60.0) -> dict[str, int]:
    """Run the sender until nothing is left to send; return the delivery status counts."""
    stop = asyncio.Event()
    task = asyncio.create_task(sender.run(stop))
    try:
        async with asyncio.timeout(timeout):
            while True:
                await asyncio.sleep(0.05)
                counts = await deliveries.status_counts(db)
                if not any(counts.get(s) for s in ("pending", "retry_wait", "in_flight")):
                    return counts
    finally:
        stop.set()
        await task


@pytest.fixture
def db(any_db: Database) -> Database:
    """Every delivery test runs on SQLite and on PostgreSQL."""
    return any_db
