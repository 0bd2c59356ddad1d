"""A restart of loa and of its sandbox on the same database: the first tap after it is answered
(the new sandbox must not hand out update ids the database already holds as seen)."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

from bot.domain import Button, ButtonAnswer, InboundEvent, OutboundMessage, Platform, Reply
from bot.inbox import Inbox
from bot.platforms.base import PlatformAdapter
from bot.platforms.telegram import TelegramAdapter
from bot.sandbox import Sandbox
from bot.sandbox.client import SandboxClient
from bot.storage.db import Database
from tests.delivery.conftest import BOT_ID, TOKEN

TG = Platform.TELEGRAM


class Thanks:
    async def dispatch(self, event: InboundEvent, adapter: PlatformAdapter) -> Sequence[Reply]:
        if event.callback_id is None:
            return ()
        return [ButtonAnswer(event.callback_id, "Cảm ơn bạn đã xác nhận")]

    async def give_up(self, event: InboundEvent, adapter: PlatformAdapter) -> Sequence[Reply]:
        return ()


async def _tap_once(db: Database) -> bool:
    """Start a sandbox and loa's inbox on `db`, tap "Đã hiểu" on a post; whether it was
    answered within 5 s."""
    sandbox = Sandbox()
    url = await sandbox.start(host="127.0.0.1", port=0)
    adapter = TelegramAdapter(TOKEN, url, timeout=2.0)
    await adapter.start()
    inbox = Inbox(db, {TG: adapter}, Thanks(), poll_timeout=1)
    stop = asyncio.Event()
    tasks = [
        asyncio.create_task(inbox.run(stop)),
        asyncio.create_task(inbox.poll_forever(TG, stop)),
    ]
    try:
        async with SandboxClient(url) as client:
            user = await client.create_user("Trần Thị Bình")
            chat = await client.create_chat("Lớp 1A", members=[user, BOT_ID])
            post = await adapter.send(
                OutboundMessage(str(chat), "Họp phụ huynh", (Button("Đã hiểu", "ack:1"),))
            )
            tap = await client.press(chat, user, int(post.message_id), "ack:1")
            for _ in range(100):
                if (await client.call("GET", f"callbacks/{tap}"))["answered"]:
                    return True
                await asyncio.sleep(0.05)
            return False
    finally:
        stop.set()
        await asyncio.gather(*tasks)
        await adapter.stop()
        await sandbox.stop()


async def test_the_first_tap_after_a_restart_on_the_same_database_is_answered(
    any_db: Database,
) -> None:
    assert await _tap_once(any_db)
    assert await _tap_once(any_db)
