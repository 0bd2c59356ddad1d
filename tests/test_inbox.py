"""The inbox: persisted once, handled once per chat in order, failures retried then set aside,
old keys forgotten, logs without text."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping, Sequence
from datetime import timedelta
from itertools import count
from typing import Any

import pytest
from sqlmodel import col, select, update

from bot.domain import (
    ButtonAnswer,
    ChatType,
    EventKind,
    InboundEvent,
    OutboundMessage,
    Platform,
    PlatformUser,
    Reply,
)
from bot.inbox import DEDUPE_WINDOW, Inbox
from bot.platforms.base import (
    MalformedUpdate,
    PlatformAdapter,
    Retryable,
)
from bot.storage.db import Database
from bot.storage.models import InboxUpdate, utcnow
from tests.handlers import fakes

TG = Platform.TELEGRAM
_update_ids = count(1000)


def message(
    text: str, *, chat: int = 7, update_id: int | None = None, name: str = "Người thử"
) -> dict[str, Any]:
    """A Telegram-shaped group message update (what FakePlatform reads)."""
    uid = next(_update_ids) if update_id is None else update_id
    sender = {"id": 3, "first_name": name}
    return {"update_id": uid, "message": {"chat": {"id": chat}, "from": sender, "text": text}}


class FakePlatform(fakes.FakePlatform):
    """Reads `message` updates (group messages of any chat) and records what it is asked to
    send."""

    def parse_update(self, raw: Mapping[str, Any]) -> InboundEvent | None:
        self.update_key(raw)
        if "message" not in raw:
            return None
        m = raw["message"]
        if not isinstance(m, dict):
            raise MalformedUpdate("message is not an object")
        return InboundEvent(
            TG,
            EventKind.MESSAGE,
            chat_id=str(m["chat"]["id"]),
            chat_type=ChatType.GROUP,
            user=PlatformUser(str(m["from"]["id"]), m["from"]["first_name"]),
            text=m["text"],
        )


class Recorder:
    """An EventRouter that records events, answers each in its chat with its text, and fails
    on texts listed in `fail`."""

    def __init__(self, *fail: str) -> None:
        self.fail = set(fail)
        self.seen: list[str | None] = []
        self.given_up: list[str | None] = []
        self.names: list[str] = []
        self.arrived = asyncio.Event()

    async def dispatch(self, event: InboundEvent, adapter: PlatformAdapter) -> Sequence[Reply]:
        self.seen.append(event.text)
        self.names += [event.user.name] if event.user else []
        self.arrived.set()
        if event.text in self.fail:
            raise RuntimeError(f"cannot handle {event.text}")
        assert event.chat_id is not None
        return [OutboundMessage(event.chat_id, f"đã nhận: {event.text}")]

    async def give_up(self, event: InboundEvent, adapter: PlatformAdapter) -> Sequence[Reply]:
        self.given_up.append(event.text)
        return [ButtonAnswer("tap", "lỗi")]


def _inbox(db: Database, router: Recorder, **options: Any) -> tuple[Inbox, FakePlatform]:
    platform = FakePlatform()
    adapters: dict[Platform, PlatformAdapter] = {TG: platform}
    return Inbox(db, adapters, router, retry_delay=0, **options), platform


async def _rows(db: Database) -> list[InboxUpdate]:
    async with db.session() as session:
        return list((await session.exec(select(InboxUpdate).order_by(col(InboxUpdate.id)))).all())


async def test_accept_deduplicates_on_the_update_key(any_db: Database) -> None:
    inbox, _ = _inbox(any_db, Recorder())
    raw = message("xin chào", update_id=5)

    assert await inbox.accept(TG, raw) is True
    assert await inbox.accept(TG, dict(raw)) is False
    assert await inbox.accept(TG, message("khác", update_id=6)) is True

    rows = await _rows(any_db)
    expected = [("telegram", "5", None), ("telegram", "6", None)]
    assert [(r.platform, r.key, r.handled_at) for r in rows] == expected
    assert rows[0].payload == raw


async def test_concurrent_accepts_are_one_batch_and_each_gets_its_own_answer(
    any_db: Database,
) -> None:
    inbox, _ = _inbox(any_db, Recorder())
    await inbox.accept(TG, message("cũ", update_id=1))
    raws = [message(f"tin {i}", update_id=i) for i in range(1, 40)] + [message("lặp", update_id=5)]

    results = await asyncio.gather(*(inbox.accept(TG, raw) for raw in raws))

    assert results == [False] + [True] * 38 + [False]
    rows = await _rows(any_db)
    assert [r.key for r in rows] == [str(i) for i in range(1, 40)]
    assert rows[4].payload["message"]["text"] == "tin 5"


async def test_accept_refuses_an_update_without_key(db: Database) -> None:
    inbox, _ = _inbox(db, Recorder())
    with pytest.raises(MalformedUpdate):
        await inbox.accept(TG, {"message": {}})
    assert await _rows(db) == []


async def test_a_failing_update_is_retried_then_set_aside_without_blocking(db: Database) -> None:
    router = Recorder("hỏng")
    inbox, platform = _inbox(db, router)
    for text in ("hỏng", "một"):
        await inbox.accept(TG, message(text, chat=1))
    await inbox.accept(TG, message("hai", chat=2))

    assert await inbox.process_pending() == 3
    # its chat's next update waits for the retries; the other chat does not
    assert [t for t in router.seen if t != "hai"] == ["hỏng", "hỏng", "hỏng", "một"]
    assert router.given_up == ["hỏng"]
    rows = await _rows(db)
    assert all(r.handled_at is not None and r.payload == {} for r in rows)
    assert [(r.attempts, r.error) for r in rows] == [(3, "RuntimeError"), (1, None), (1, None)]
    assert sorted(m.text for m in platform.sent) == ["đã nhận: hai", "đã nhận: một"]

    await inbox.accept(TG, message("ba"))
    assert await inbox.process_pending() == 1  # the failed row is not taken again
    assert router.seen[-1] == "ba"


async def test_a_failed_update_waits_before_its_retry_and_its_chat_waits_too(
    db: Database,
) -> None:
    router = Recorder("hỏng")
    inbox, _ = _inbox(db, router)
    inbox.retry_delay = 60
    await inbox.accept(TG, message("hỏng", chat=1))
    await inbox.accept(TG, message("sau", chat=1))
    await inbox.accept(TG, message("khác", chat=2))
    stop = asyncio.Event()
    task = asyncio.create_task(inbox.run(stop))
    await asyncio.sleep(0.3)
    stop.set()
    async with asyncio.timeout(5):
        await task

    assert router.seen == ["hỏng", "khác"]
    first = (await _rows(db))[0]
    assert (first.attempts, first.error, first.handled_at) == (1, "RuntimeError", None)


async def test_a_malformed_stored_update_is_set_aside(db: Database) -> None:
    router = Recorder()
    inbox, _ = _inbox(db, router)
    await inbox.accept(TG, {"update_id": 1, "message": "not an object"})
    await inbox.accept(TG, {"update_id": 2, "edited_channel_post": {"text": "?"}})  # not ours
    await inbox.accept(TG, message("sau đó", update_id=3))

    assert await inbox.process_pending() == 3
    assert router.seen == ["sau đó"]
    rows = await _rows(db)
    assert [(r.key, r.error) for r in rows] == [
        ("1", "MalformedUpdate"),
        ("2", None),
        ("3", None),
    ]
    assert all(r.handled_at is not None for r in rows)


async def test_run_handles_what_arrives_and_stops(db: Database) -> None:
    router = Recorder()
    inbox, platform = _inbox(db, router, sweep_interval=30)  # only `accept` can hand it over
    stop = asyncio.Event()
    task = asyncio.create_task(inbox.run(stop))
    await asyncio.sleep(0.05)
    await inbox.accept(TG, message("một"))
    async with asyncio.timeout(5):
        await router.arrived.wait()
        while not platform.sent:
            await asyncio.sleep(0.01)
    assert router.seen == ["một"]
    stop.set()
    async with asyncio.timeout(5):
        await task
    assert (await _rows(db))[0].handled_at is not None


async def test_run_handles_rows_left_by_an_earlier_run(db: Database) -> None:
    earlier, _ = _inbox(db, Recorder())
    await earlier.accept(TG, message("còn lại"))
    router = Recorder()
    inbox, platform = _inbox(db, router)
    stop = asyncio.Event()
    task = asyncio.create_task(inbox.run(stop))
    async with asyncio.timeout(5):
        while not platform.sent:
            await asyncio.sleep(0.01)
    stop.set()
    await task
    assert router.seen == ["còn lại"]


async def test_old_handled_keys_are_forgotten_and_unhandled_rows_kept(any_db: Database) -> None:
    inbox, _ = _inbox(any_db, Recorder())
    for update_id in (1, 2, 3):
        await inbox.accept(TG, message("tin", update_id=update_id))
    await inbox.process_pending()
    await inbox.accept(TG, message("chưa xử lý", update_id=4))
    long_ago = utcnow() - DEDUPE_WINDOW - timedelta(minutes=1)
    async with any_db.session() as session:
        old = update(InboxUpdate).values(received_at=long_ago)
        await session.exec(old.where(col(InboxUpdate.key) == "4"))  # old, and not handled
        await session.exec(old.values(handled_at=long_ago).where(col(InboxUpdate.key) == "1"))
        await session.commit()

    assert await inbox.forget_handled() == 1
    assert [r.key for r in await _rows(any_db)] == ["2", "3", "4"]
    assert await inbox.accept(TG, message("lại", update_id=1)) is True  # a new update now
    assert await inbox.accept(TG, message("lặp", update_id=2)) is False  # still a duplicate


async def test_poll_forever_persists_each_batch_before_polling_again(db: Database) -> None:
    inbox, platform = _inbox(db, Recorder(), poll_timeout=0.01, max_poll_backoff=0.01)
    stop = asyncio.Event()
    persisted_at_poll: list[int] = []

    async def before_poll() -> None:
        persisted_at_poll.append(len(await _rows(db)))
        if len(persisted_at_poll) == 5:
            stop.set()

    platform.before_poll = before_poll
    platform.batches = [
        [message("a", update_id=1), message("b", update_id=2)],
        Retryable("network"),
        [message("b", update_id=2), {"no": "key"}, message("c", update_id=3)],
    ]
    async with asyncio.timeout(5):
        await inbox.poll_forever(TG, stop)

    assert persisted_at_poll[:4] == [0, 2, 2, 3]
    assert [r.key for r in await _rows(db)] == ["1", "2", "3"]


async def test_logs_never_carry_message_text_or_names(
    db: Database, caplog: pytest.LogCaptureFixture
) -> None:
    marker = "BÍMẬT-7f3a"
    caplog.set_level(logging.DEBUG)
    failing = Recorder(marker)
    inbox, platform = _inbox(db, failing)
    await inbox.accept(TG, message(marker, name=f"Lan {marker}"))
    await inbox.accept(TG, message(f"trợ giúp {marker}", name=f"Lan {marker}"))
    await inbox.accept(TG, {"update_id": 1, "message": {"text": marker}})  # malformed
    await inbox.process_pending()

    assert failing.given_up == [marker]
    assert set(failing.names) == {f"Lan {marker}"}, "the name reached the handler"
    assert [m.text for m in platform.sent] == [f"đã nhận: trợ giúp {marker}"]
    assert caplog.records, "expected the inbox to log"
    assert marker not in caplog.text
    assert all(marker not in r.getMessage() for r in caplog.records)


async def test_poll_forever_stops_during_a_long_poll(db: Database) -> None:
    inbox, _ = _inbox(db, Recorder(), poll_timeout=30)
    stop = asyncio.Event()
    task = asyncio.create_task(inbox.poll_forever(TG, stop))
    await asyncio.sleep(0.05)
    stop.set()
    async with asyncio.timeout(2):
        await task


class Overlapping(Recorder):
    """Records how many dispatches ran at once."""

    def __init__(self) -> None:
        super().__init__()
        self.running = self.most = 0

    async def dispatch(self, event: InboundEvent, adapter: PlatformAdapter) -> Sequence[Reply]:
        self.running += 1
        self.most = max(self.most, self.running)
        try:
            await asyncio.sleep(0.05)
            return await super().dispatch(event, adapter)
        finally:
            self.running -= 1


async def test_on_sqlite_two_handlers_run_at_once_even_while_updates_are_acknowledged(
    db: Database,
) -> None:
    """Two handlers at most share the one core with the webhook; an acknowledgement waiting
    for the writer's turn does not stop them (statements run on the loop's thread: a handler
    gives no time back to the webhook by waiting)."""
    router = Overlapping()
    inbox, _ = _inbox(db, router)
    for chat in range(4):
        await inbox.accept(TG, message(f"nhóm {chat}", chat=chat))
    async with inbox._turns.turn():  # another write holds the one writer's turn
        accepting = asyncio.create_task(inbox.accept(TG, message("mới", chat=9)))
        await asyncio.sleep(0.1)
        handling = asyncio.create_task(inbox.process_pending())
        async with asyncio.timeout(5):
            while len(router.seen) < 4:
                await asyncio.sleep(0.01)
    await handling

    assert await accepting is True
    assert router.most == 2
