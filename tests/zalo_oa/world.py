"""loa's inbound path for Zalo OA on a real port: webhook (signature checked) → inbox →
handlers, with the sandbox's OA posting its signed events to it."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime

from aiohttp.test_utils import TestServer
from sqlalchemy import func, select

from bot.config import DEFAULT_CONTENT_DIR
from bot.delivery.sender import ChannelSender
from bot.dispatch import Dispatcher
from bot.domain import Audience, Platform
from bot.inbox import Inbox
from bot.platforms.zalo_oa import ZaloOaAdapter
from bot.sandbox import Sandbox
from bot.sandbox.zalo_oa_api import APP_ID, WEBHOOK_SECRET
from bot.storage import deliveries
from bot.storage.db import Database
from bot.storage.models import Chat, Feedback, table_of, utcnow
from bot.web import create_web_app
from bot.web.webhooks import ZaloOaSignature
from content.templates import Templates
from handlers import build_router

TEMPLATES = Templates(DEFAULT_CONTENT_DIR / "templates")


@dataclass
class Loa:
    db: Database
    sandbox: Sandbox
    adapter: ZaloOaAdapter
    inbox: Inbox
    url: str  # loa's web app

    async def register(
        self, platform_chat_ids: Sequence[str], members: int | None = 1
    ) -> list[int]:
        """Chats of parents, as binding would leave them; their ids in loa."""
        now = utcnow()
        rows = [
            {
                "platform": "zalo_oa",
                "platform_chat_id": p,
                "title": "OA",
                "type": "group" if p.startswith("group:") else "private",
                "audience": Audience.parents.value,
                "active": True,
                "member_count": members if not p.startswith("group:") else None,
                "member_count_at": None if p.startswith("group:") else now,
                "created_at": now,
            }
            for p in platform_chat_ids
        ]
        table = table_of(Chat)
        async with self.db.engine.begin() as conn:
            result = await conn.execute(table.insert().returning(table.c.id), rows)
            return [int(i) for i in result.scalars()]

    async def send_all(
        self, rate: float | None = None, clock: Callable[[], datetime] | None = None
    ) -> dict[str, int]:
        """Run the OA's sender until nothing waits that is due now; the status counts."""
        sender = ChannelSender(self.db, self.adapter, rate_per_s=rate, clock=clock or utcnow)
        stop = asyncio.Event()
        run = asyncio.create_task(sender.run(stop))
        try:
            async with asyncio.timeout(30):
                while True:
                    await asyncio.sleep(0.1)
                    counts = await deliveries.status_counts(self.db)
                    if not counts.get("pending") and not counts.get("in_flight"):
                        return counts
        finally:
            stop.set()
            await run

    async def feedback(self, kind: str, at_least: int) -> int:
        """Feedback rows of `kind`, waiting (a little) for the inbox to get there."""
        fb = table_of(Feedback)
        async with asyncio.timeout(30):  # a receipt before its send is recorded waits 2-6 s
            while True:
                async with self.db.reading() as conn:
                    n = (
                        await conn.execute(select(func.count()).where(fb.c.kind == kind))
                    ).scalar_one()
                if n >= at_least:
                    return int(n)
                await asyncio.sleep(0.05)


@asynccontextmanager
async def running_loa(db: Database, sandbox: Sandbox, adapter: ZaloOaAdapter) -> AsyncIterator[Loa]:
    await adapter.start()
    inbox = Inbox(
        db, {Platform.ZALO_OA: adapter}, Dispatcher(build_router(), db=db, templates=TEMPLATES)
    )
    app = create_web_app(
        inbox=inbox,
        adapters=inbox.adapters,
        webhook_secret=None,
        webhook_auth={Platform.ZALO_OA: ZaloOaSignature(APP_ID, WEBHOOK_SECRET)},
    )
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    url = f"http://127.0.0.1:{server.port}"
    sandbox.zalo_oa.configure(webhook_url=f"{url}/webhook/zalo-oa")
    stop = asyncio.Event()
    task = asyncio.create_task(inbox.run(stop))
    try:
        yield Loa(db, sandbox, adapter, inbox, url)
    finally:
        stop.set()
        await asyncio.wait_for(task, 10)
        await server.close()
