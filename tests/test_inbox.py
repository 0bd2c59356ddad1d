"""The inbox: persisted once, handled once, failures retried then set aside, logs without text."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import pytest
from sqlmodel import col, select

from bot.domain import InboundEvent, Platform, Reply
from bot.inbox import Inbox
from bot.platforms.base import MalformedUpdate, PlatformAdapter, Retryable
from bot.storage.db import Database
from bot.storage.models import InboxUpdate
from tests.handlers.fakes import FakePlatform, Harness, message

TG = Platform.TELEGRAM


class Recorder:
    """An EventRouter that records events and fails on texts listed in `fail`."""

    def __init__(self, *fail: str) -> None:
        self.fail = set(fail)
        self.seen: list[str | None] = []
        self.given_up: list[str | None] = []
        self.arrived = asyncio.Event()

    async def dispatch(self, event: InboundEvent, adapter: PlatformAdapter) -> list[Reply]:
        self.seen.append(event.text)
        self.arrived.set()
        if event.text in self.fail:
            raise RuntimeError(f"cannot handle {event.text}")
        return []

    async def give_up(self, event: InboundEvent, adapter: PlatformAdapter) -> list[Reply]:
        self.given_up.append(event.text)
        return []


def _inbox(db: Database, router: Recorder, **options: Any) -> tuple[Inbox, FakePlatform]:
    platform = FakePlatform()
    return Inbox(db, {TG: platform}, router, retry_delay=0, **options), platform


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


async def test_accept_refuses_an_update_without_key(db: Database) -> None:
    inbox, _ = _inbox(db, Recorder())
    with pytest.raises(MalformedUpdate):
        await inbox.accept(TG, {"message": {}})
    assert await _rows(db) == []


async def test_a_failing_update_is_retried_then_set_aside_without_blocking(db: Database) -> None:
    router = Recorder("hỏng")
    inbox, _ = _inbox(db, router)
    for text in ("hỏng", "một", "hai"):
        await inbox.accept(TG, message(text))

    assert await inbox.process_pending() == 3
    assert router.seen == ["hỏng", "một", "hai"]
    first = (await _rows(db))[0]
    assert (first.attempts, first.error, first.handled_at) == (1, "RuntimeError", None)

    await inbox.process_pending()
    await inbox.process_pending()
    assert router.seen == ["hỏng", "một", "hai", "hỏng", "hỏng"]
    assert router.given_up == ["hỏng"]
    rows = await _rows(db)
    assert all(r.handled_at is not None for r in rows)
    assert [(r.attempts, r.error) for r in rows] == [(3, "RuntimeError"), (1, None), (1, None)]

    await inbox.accept(TG, message("ba"))
    assert await inbox.process_pending() == 1  # the failed row is not taken again
    assert router.seen[-1] == "ba"


async def test_a_failed_update_waits_before_its_retry(db: Database) -> None:
    router = Recorder("hỏng")
    inbox, _ = _inbox(db, router)
    inbox.retry_delay = 60
    await inbox.accept(TG, message("hỏng"))
    await inbox.process_pending()
    assert await inbox.process_pending() == 0
    assert router.seen == ["hỏng"]


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
    inbox, _ = _inbox(db, router, sweep_interval=30)  # only `accept` can wake it in time
    stop = asyncio.Event()
    task = asyncio.create_task(inbox.run(stop))
    await asyncio.sleep(0.05)
    await inbox.accept(TG, message("một"))
    async with asyncio.timeout(5):
        await router.arrived.wait()
    assert router.seen == ["một"]
    stop.set()
    async with asyncio.timeout(5):
        await task


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
    bot = Harness(db, retry_delay=0)
    await bot.deliver(
        message("/start", name=f"Tên {marker}"),
        message(f"trợ giúp {marker}"),
        {"update_id": 1, "message": {"text": marker}},  # malformed
    )
    failing = Recorder(marker)
    inbox, _ = _inbox(db, failing)
    await inbox.accept(TG, message(marker))
    for _ in range(3):
        await inbox.process_pending()

    assert failing.given_up == [marker]
    assert len(bot.platform.sent) == 2 and marker in bot.platform.sent[0].text
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
