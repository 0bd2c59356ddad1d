"""getUpdates long polling and webhook delivery."""

from __future__ import annotations

import asyncio
import datetime as dtm
import json
import time
from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiohttp import web
from telegram import Bot, Update
from telegram.error import Conflict

from .conftest import Control


async def write(ctl: Control, chat: int, user: int, text: str) -> int:
    body = {"user_id": user, "text": text}
    return int((await ctl.post(f"chats/{chat}/messages", body))["message_id"])


async def test_long_poll_returns_as_soon_as_an_update_arrives(
    bot: Bot, ctl: Control, world: dict[str, int]
) -> None:
    started = time.monotonic()
    poll = asyncio.create_task(bot.get_updates(timeout=10, read_timeout=15))
    await asyncio.sleep(0.2)
    assert not poll.done()
    await write(ctl, world["group"], world["an"], "Chào cô")
    updates = await asyncio.wait_for(poll, 3)
    assert time.monotonic() - started < 2
    assert [u.message.text for u in updates if u.message] == ["Chào cô"]


async def test_long_poll_times_out_empty(bot: Bot) -> None:
    started = time.monotonic()
    assert await bot.get_updates(timeout=dtm.timedelta(seconds=0.5)) == ()
    assert 0.4 < time.monotonic() - started < 3


async def test_offset_confirms_and_limit(bot: Bot, ctl: Control, world: dict[str, int]) -> None:
    for i in range(5):
        await write(ctl, world["group"], world["an"], f"m{i}")
    first = await bot.get_updates(limit=2)
    assert [u.message.text for u in first if u.message] == ["m0", "m1"]
    ids = [u.update_id for u in first]
    assert ids[1] == ids[0] + 1
    again = await bot.get_updates()
    assert len(again) == 5  # nothing confirmed yet
    rest = await bot.get_updates(offset=ids[1] + 1)
    assert [u.message.text for u in rest if u.message] == ["m2", "m3", "m4"]
    assert [u.update_id for u in await bot.get_updates()] == [u.update_id for u in rest]
    last = await bot.get_updates(offset=-1)
    assert [u.message.text for u in last if u.message] == ["m4"]
    assert await bot.get_updates(offset=rest[-1].update_id + 1) == ()


async def test_allowed_updates_filter(bot: Bot, ctl: Control, world: dict[str, int]) -> None:
    await bot.get_updates(allowed_updates=["callback_query"])
    await write(ctl, world["group"], world["an"], "ignored")
    assert await bot.get_updates() == ()
    await bot.get_updates(allowed_updates=[])  # back to the default set
    await write(ctl, world["group"], world["an"], "seen")
    assert [u.message.text for u in await bot.get_updates() if u.message] == ["seen"]


async def test_second_poller_conflicts_the_first(bot: Bot, ctl: Control) -> None:
    first = asyncio.create_task(ctl.tg("getUpdates", timeout=5))
    await asyncio.sleep(0.2)
    second = asyncio.create_task(bot.get_updates(timeout=dtm.timedelta(seconds=0.3)))
    status, body = await asyncio.wait_for(first, 3)
    assert status == 409
    assert body["description"] == (
        "Conflict: terminated by other getUpdates request; "
        "make sure that only one bot instance is running"
    )
    assert await second == ()


async def test_update_json_shape_for_commands_and_replies(
    bot: Bot, ctl: Control, world: dict[str, int]
) -> None:
    mid = await write(ctl, world["group"], world["an"], "câu hỏi")
    await ctl.post(
        f"chats/{world['group']}/messages",
        {"user_id": world["binh"], "text": "/diem@loa123456_bot 5A", "reply_to_message_id": mid},
    )
    updates = await bot.get_updates()
    msg = updates[-1].message
    assert msg is not None and msg.from_user is not None
    assert msg.from_user.first_name == "Trần Thị Bình"
    assert [(e.type, e.offset, e.length) for e in msg.entities] == [("bot_command", 0, 19)]
    assert msg.reply_to_message is not None and msg.reply_to_message.text == "câu hỏi"


class Receiver:
    """A webhook endpoint that fails the first `fail` deliveries with 500."""

    def __init__(self, fail: int = 0) -> None:
        self.fail = fail
        self.calls: list[tuple[str | None, dict[str, Any]]] = []
        self.got = asyncio.Event()

    async def handle(self, request: web.Request) -> web.Response:
        body = json.loads(await request.read())
        self.calls.append((request.headers.get("X-Telegram-Bot-Api-Secret-Token"), body))
        if self.fail > 0:
            self.fail -= 1
            return web.Response(status=500)
        self.got.set()
        return web.Response(text="ok")


@pytest.fixture
async def receiver() -> AsyncIterator[tuple[Receiver, str]]:
    rec = Receiver(fail=1)
    app = web.Application()
    app.router.add_post("/hook", rec.handle)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    yield rec, f"http://127.0.0.1:{port}/hook"
    await runner.cleanup()


async def test_webhook_delivery_with_secret_and_retry(
    bot: Bot, ctl: Control, world: dict[str, int], receiver: tuple[Receiver, str]
) -> None:
    rec, hook = receiver
    assert await bot.set_webhook(hook, secret_token="s3cr3t_-X")
    info = await bot.get_webhook_info()
    assert info.url == hook and info.has_custom_certificate is False
    with pytest.raises(Conflict, match="can't use getUpdates method while webhook is active"):
        await bot.get_updates()
    await write(ctl, world["group"], world["an"], "một")
    await write(ctl, world["group"], world["an"], "hai")
    for _ in range(100):
        if len([c for c in rec.calls if c[1]["message"]["text"] == "hai"]) == 1:
            break
        await asyncio.sleep(0.05)
    texts = [body["message"]["text"] for _, body in rec.calls]
    assert texts == ["một", "một", "hai"]  # first attempt got a 500, retried, then in order
    assert {secret for secret, _ in rec.calls} == {"s3cr3t_-X"}
    Update.de_json(rec.calls[-1][1], bot)  # the delivered JSON is a valid Update
    info = await bot.get_webhook_info()
    assert info.pending_update_count == 0
    assert info.last_error_message and "500" in info.last_error_message
    assert await bot.delete_webhook()
    assert (await bot.get_webhook_info()).url == ""
    assert await bot.get_updates() == ()


async def test_webhook_gives_up_after_bounded_retries(
    bot: Bot, ctl: Control, world: dict[str, int], receiver: tuple[Receiver, str]
) -> None:
    rec, hook = receiver
    rec.fail = 100
    await bot.set_webhook(hook)
    await write(ctl, world["group"], world["an"], "lost")
    for _ in range(100):
        if (await bot.get_webhook_info()).pending_update_count == 0:
            break
        await asyncio.sleep(0.05)
    assert len(rec.calls) == 4  # webhook_max_attempts in the fixture
    assert rec.calls[0][0] is None  # no secret configured, no header


async def test_delete_webhook_drops_pending(bot: Bot, ctl: Control, world: dict[str, int]) -> None:
    await bot.set_webhook("http://127.0.0.1:9/unreachable")
    await write(ctl, world["group"], world["an"], "x")
    await bot.delete_webhook(drop_pending_updates=True)
    assert await bot.get_updates() == ()
