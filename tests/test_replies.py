"""Replies leave like deliveries: within the channel's limits, 429s waited out, refusals
retried, a reply that may have arrived never sent twice, ahead of a broadcast's queue."""

from __future__ import annotations

import asyncio
import time

import pytest

from bot.delivery.limits import ChatLimiter, Pacer
from bot.delivery.replies import ChannelLimiters, ReplySender
from bot.delivery.sender import ChannelSender
from bot.domain import ButtonAnswer, OutboundMessage, Platform
from bot.services.broadcasts import Broadcast, enqueue
from bot.storage.db import Database
from tests.delivery.conftest import BOT_ID, World, world

__all__ = ["world"]


def _sender(pacer: Pacer | None = None) -> ReplySender:
    limits = ChannelLimiters(pacer or Pacer(30), ChatLimiter(20, 1))
    return ReplySender({Platform.TELEGRAM: limits}, retry_delays=(0.1, 0.2, 0.4))


async def _private_chat(world: World) -> int:
    return await world.sandbox.create_chat("", type="private", user_id=world.user, members=[BOT_ID])


async def test_three_429s_are_waited_out_and_the_reply_arrives_once(world: World) -> None:
    chat = await _private_chat(world)
    await world.sandbox.fault(
        method="sendMessage", chat_id=chat, status=429, retry_after=1, count=3
    )
    started = time.monotonic()

    await _sender().send(world.adapter, [OutboundMessage(str(chat), "Thông tin của bạn")])

    assert 2.8 < time.monotonic() - started < 6
    assert await world.copies(chat) == 1


async def test_a_reply_that_timed_out_after_arriving_is_not_sent_again(world: World) -> None:
    chat = await _private_chat(world)
    await world.sandbox.fault(method="sendMessage", chat_id=chat, status="timeout", count=1)

    await _sender().send(world.adapter, [OutboundMessage(str(chat), "Bản nháp")])

    assert await world.copies(chat) == 1


async def test_a_refused_reply_is_sent_again_once(world: World) -> None:
    chat = await _private_chat(world)
    await world.sandbox.fault(method="sendMessage", chat_id=chat, status=500, count=1)

    await _sender().send(world.adapter, [OutboundMessage(str(chat), "Bản nháp")])

    assert await world.copies(chat) == 1


async def test_a_failed_reply_does_not_stop_the_next(world: World) -> None:
    chat = await _private_chat(world)
    await world.sandbox.fault(method="sendMessage", chat_id=chat, status=400, count=1)
    replies = [OutboundMessage(str(chat), "một"), OutboundMessage(str(chat), "hai")]

    await _sender().send(world.adapter, [ButtonAnswer("không-có"), *replies])

    assert [m["text"] for m in await world.sandbox.messages(chat)] == ["hai"]


async def test_a_reply_for_a_platform_not_running_is_dropped_and_the_rest_sent(
    world: World, caplog: pytest.LogCaptureFixture
) -> None:
    """An answer for a Zalo chat while only Telegram runs: nowhere to send it; said in the log
    (without its text), and the Telegram reply after it still leaves."""
    chat = await _private_chat(world)
    replies = [
        OutboundMessage("zalo-chat", "Trả lời riêng", platform=Platform.ZALO_BOT),
        OutboundMessage(str(chat), "hai", platform=Platform.TELEGRAM),
    ]

    await _sender().send(world.adapter, replies, others={Platform.TELEGRAM: world.adapter})

    assert [m["text"] for m in await world.sandbox.messages(chat)] == ["hai"]
    assert "zalo_bot" in caplog.text and "Trả lời riêng" not in caplog.text


async def test_a_reply_does_not_wait_behind_a_broadcast(db: Database, world: World) -> None:
    groups = await world.groups(db, 20)
    channel = ChannelSender(db, world.adapter, rate_per_s=5)  # 20 posts take 4 s
    chat = await _private_chat(world)
    item = Broadcast(key="tin", title="Tin", text="Họp phụ huynh lúc 8 giờ.")
    await enqueue(db, item, list(groups))
    stop = asyncio.Event()
    broadcasting = asyncio.create_task(channel.run(stop))
    await asyncio.sleep(1.0)
    pacer, chats = channel.limiters
    replies = ReplySender({Platform.TELEGRAM: ChannelLimiters(pacer, chats)})

    started = time.monotonic()
    await replies.send(world.adapter, [OutboundMessage(str(chat), "Trả lời")])
    waited = time.monotonic() - started
    stop.set()
    await broadcasting

    assert waited < 1.2  # a slot or two (0.25 s apart), not the end of the queue (~3 s)
    assert await world.copies(chat) == 1
