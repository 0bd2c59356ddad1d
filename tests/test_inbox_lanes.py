"""Lanes: one slow chat holds up only itself; one chat's updates are handled in order."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Sequence
from typing import Any

from sqlmodel import select

from bot.delivery.limits import ChatLimiter, Pacer
from bot.delivery.replies import ChannelLimiters, ReplySender
from bot.domain import InboundEvent, OutboundMessage, Platform, Reply
from bot.inbox import EventRouter, Inbox
from bot.platforms.base import PlatformAdapter
from bot.storage.db import Database
from bot.storage.models import Secret
from tests.delivery.conftest import BOT_ID, World, world

__all__ = ["world"]
TG = Platform.TELEGRAM


class Echo:
    """Answers each message in its chat; "chậm" takes a while to handle."""

    def __init__(self) -> None:
        self.runs: list[str | None] = []

    async def dispatch(self, event: InboundEvent, adapter: PlatformAdapter) -> Sequence[Reply]:
        self.runs.append(event.text)
        if event.text == "chậm":
            await asyncio.sleep(0.3)
        assert event.chat_id is not None
        return [OutboundMessage(event.chat_id, f"đã nhận: {event.text}")]

    async def give_up(self, event: InboundEvent, adapter: PlatformAdapter) -> Sequence[Reply]:
        return ()


async def _replies_in(world: World, chat: int) -> list[str]:
    return [m["text"] for m in await world.sandbox.messages(chat) if m["sender"]["id"] == BOT_ID]


@contextlib.asynccontextmanager
async def _running(
    db: Database, world: World, router: EventRouter, **options: Any
) -> AsyncIterator[None]:
    """The inbox polling the sandbox and handling what comes, until the block ends."""
    inbox = Inbox(db, {TG: world.adapter}, router, poll_timeout=1, **options)
    stop = asyncio.Event()
    tasks = [
        asyncio.create_task(inbox.run(stop)),
        asyncio.create_task(inbox.poll_forever(TG, stop)),
    ]
    try:
        yield
    finally:
        stop.set()
        await asyncio.gather(*tasks)


async def test_a_reply_timing_out_in_one_chat_does_not_delay_another(
    db: Database, world: World
) -> None:
    slow = await world.sandbox.create_chat("Nhóm A", members=[world.user, BOT_ID])
    other = await world.sandbox.create_chat("Nhóm B", members=[world.user, BOT_ID])
    await world.sandbox.fault(method="sendMessage", chat_id=slow, status="timeout", count=1)
    router = Echo()
    async with _running(db, world, router):
        await world.sandbox.write(slow, world.user, "một")
        async with asyncio.timeout(5):
            while not router.runs:
                await asyncio.sleep(0.01)
        started = time.monotonic()
        await world.sandbox.write(other, world.user, "hai")
        async with asyncio.timeout(5):
            while not await _replies_in(world, other):
                await asyncio.sleep(0.02)
        answered_after = time.monotonic() - started  # the timed-out reply holds A for 1 s
        await asyncio.sleep(1.5)

    assert answered_after < 0.8
    assert await _replies_in(world, slow) == ["đã nhận: một"]  # arrived, and never sent again
    assert router.runs == ["một", "hai"]  # the handler did not run again for the timeout


async def test_one_chats_updates_are_handled_and_answered_in_order(
    db: Database, world: World
) -> None:
    chat = await world.sandbox.create_chat("Nhóm", members=[world.user, BOT_ID])
    router = Echo()
    async with _running(db, world, router):
        for text in ("chậm", "nhanh", "cuối"):
            await world.sandbox.write(chat, world.user, text)
        async with asyncio.timeout(5):
            while len(await _replies_in(world, chat)) < 3:
                await asyncio.sleep(0.02)

    assert router.runs == ["chậm", "nhanh", "cuối"]
    assert await _replies_in(world, chat) == ["đã nhận: chậm", "đã nhận: nhanh", "đã nhận: cuối"]


class TwoReplies:
    """Answers each message twice in its chat: the second answer waits for the chat's limit."""

    def __init__(self) -> None:
        self.runs: list[str | None] = []

    async def dispatch(self, event: InboundEvent, adapter: PlatformAdapter) -> Sequence[Reply]:
        self.runs.append(event.text)
        assert event.chat_id is not None
        return [OutboundMessage(event.chat_id, f"{n}: {event.text}") for n in ("một", "hai")]

    async def give_up(self, event: InboundEvent, adapter: PlatformAdapter) -> Sequence[Reply]:
        return ()


async def test_replies_waiting_for_their_chats_limit_do_not_hold_up_other_chats(
    db: Database, world: World
) -> None:
    """A private chat takes one message a second: the person who gets two answers waits for
    the second, nobody else does (even with one lane handling at a time)."""
    other_user = await world.sandbox.create_user("Trần Thị Bình")
    first, second = [
        await world.sandbox.create_chat("", type="private", user_id=u, members=[BOT_ID])
        for u in (world.user, other_user)
    ]
    limits = ChannelLimiters(Pacer(0), ChatLimiter(20, 1))
    router = TwoReplies()
    replies = ReplySender({TG: limits})
    async with _running(db, world, router, max_lanes=1, replies=replies):
        await world.sandbox.write(first, world.user, "chào")
        async with asyncio.timeout(5):
            while not await _replies_in(world, first):
                await asyncio.sleep(0.01)
        await world.sandbox.write(second, other_user, "xin chào")
        async with asyncio.timeout(5):
            while len(router.runs) < 2:
                await asyncio.sleep(0.01)
        handled_meanwhile = len(await _replies_in(world, first)) == 1
        async with asyncio.timeout(5):
            while len(await _replies_in(world, second)) < 2:
                await asyncio.sleep(0.02)

    assert handled_meanwhile  # the second chat was handled before the first's second answer
    assert await _replies_in(world, first) == ["một: chào", "hai: chào"]


class SlowQuestion:
    """ "chậm" waits for the platform's answer to a question (outside any transaction); every
    other message is written down, in a session inside another, then answered."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self.answer = asyncio.Event()
        self.runs: list[str | None] = []

    async def dispatch(self, event: InboundEvent, adapter: PlatformAdapter) -> Sequence[Reply]:
        self.runs.append(event.text)
        if event.text == "chậm":
            async with asyncio.timeout(5):
                await self.answer.wait()
        else:
            async with self.db.session() as outer:
                async with self.db.session() as inner:  # nested: the task's turn, taken again
                    inner.add(Secret(name=f"noted {event.message_id}", value="x"))
                    await inner.commit()
                outer.add(Secret(name=f"seen {event.message_id}", value="x"))
                await outer.commit()
        assert event.chat_id is not None
        return [OutboundMessage(event.chat_id, f"đã nhận: {event.text}")]

    async def give_up(self, event: InboundEvent, adapter: PlatformAdapter) -> Sequence[Reply]:
        return ()


async def test_a_handler_waiting_outside_a_transaction_does_not_hold_up_writers(
    any_db: Database, world: World
) -> None:
    """On SQLite too: a handler holds the one writer's turn only while its session is open."""
    slow = await world.sandbox.create_chat("Nhóm A", members=[world.user, BOT_ID])
    other = await world.sandbox.create_chat("Nhóm B", members=[world.user, BOT_ID])
    router = SlowQuestion(any_db)
    async with _running(any_db, world, router):
        await world.sandbox.write(slow, world.user, "chậm")
        async with asyncio.timeout(5):
            while not router.runs:
                await asyncio.sleep(0.01)
        await world.sandbox.write(other, world.user, "hai")
        async with asyncio.timeout(3):
            while not await _replies_in(world, other):
                await asyncio.sleep(0.02)
        answered_first = not await _replies_in(world, slow)
        router.answer.set()
        async with asyncio.timeout(5):
            while not await _replies_in(world, slow):
                await asyncio.sleep(0.02)

    assert answered_first
    assert await _replies_in(world, other) == ["đã nhận: hai"]
    async with any_db.read_session() as session:
        names = (await session.exec(select(Secret.name).where(Secret.name != "hash_key"))).all()
    assert len(names) == 2
