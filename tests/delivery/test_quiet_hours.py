"""Parents get nothing during quiet hours: an item due at 22:00 reaches them at 06:30."""

from __future__ import annotations

import asyncio
from datetime import datetime
from zoneinfo import ZoneInfo

from bot.config import QuietHours
from bot.delivery.sender import ChannelSender
from bot.services.broadcasts import Broadcast, enqueue
from bot.storage import deliveries
from bot.storage.db import Database
from tests.delivery.conftest import World

VN = ZoneInfo("Asia/Ho_Chi_Minh")


class Clock:
    """The sender's idea of now, moved by the test."""

    def __init__(self, local: datetime) -> None:
        self.now = local.astimezone(ZoneInfo("UTC"))

    def __call__(self) -> datetime:
        return self.now


async def test_an_item_due_at_night_reaches_parents_at_half_past_six(
    db: Database, world: World
) -> None:
    parents = await world.groups(db, 2, audience="parents")
    staff = await world.groups(db, 1, audience="staff")
    clock = Clock(datetime(2026, 11, 23, 22, 0, tzinfo=VN))
    item = Broadcast(key="night", title="Thông báo", text="Họp phụ huynh sáng mai", due_at=clock())
    await enqueue(db, item, [*parents, *staff])
    sender = ChannelSender(
        db, world.adapter, rate_per_s=0, clock=clock,
        quiet_hours=QuietHours.parse("21:00-06:30"), tz=lambda t: t.astimezone(VN),
    )  # fmt: skip
    stop = asyncio.Event()
    running = asyncio.create_task(sender.run(stop))
    try:
        await asyncio.sleep(1.0)  # 22:00: staff get it, parents wait
        assert await deliveries.status_counts(db) == {"sent": 1, "pending": 2}
        clock.now = datetime(2026, 11, 24, 6, 29, tzinfo=VN).astimezone(ZoneInfo("UTC"))
        sender.wake()
        await asyncio.sleep(0.7)
        assert await deliveries.status_counts(db) == {"sent": 1, "pending": 2}
        clock.now = datetime(2026, 11, 24, 6, 30, tzinfo=VN).astimezone(ZoneInfo("UTC"))
        sender.wake()
        async with asyncio.timeout(5):
            while (await deliveries.status_counts(db)).get("sent") != 3:
                await asyncio.sleep(0.05)
    finally:
        stop.set()
        await running
    assert [await world.copies(p) for p in parents.values()] == [1, 1], "delayed, never dropped"
