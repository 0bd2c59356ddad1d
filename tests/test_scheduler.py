"""When items are due: one occurrence, whatever fires twice or runs twice."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import timedelta

from sqlmodel import func, select

from bot.services.broadcasts import Broadcast
from bot.storage.db import Database
from bot.storage.models import Chat, Delivery, Occurrence, utcnow
from scheduler.runner import Scheduler


async def one_chat(db: Database) -> int:
    async with db.session() as s:
        chat = Chat(platform="telegram", platform_chat_id="-1", type="group", audience="staff")
        s.add(chat)
        await s.commit()
        assert chat.id is not None
        return chat.id


async def count(db: Database, model: type[Occurrence] | type[Delivery]) -> int:
    async with db.session() as s:
        return int((await s.exec(select(func.count()).select_from(model))).one())


def item(key: str, in_seconds: float) -> Broadcast:
    return Broadcast(
        key=key, title="t", text="Họp phụ huynh", due_at=utcnow() + timedelta(seconds=in_seconds)
    )


async def test_two_schedulers_on_one_database_fire_once(any_db: Database) -> None:
    chat = await one_chat(any_db)
    fired: list[str] = []
    first = Scheduler(any_db, on_enqueued=lambda: fired.append("first"), lease_renew_s=0.1)
    second = Scheduler(any_db, on_enqueued=lambda: fired.append("second"), lease_renew_s=0.1)
    first.start()
    second.start()
    try:
        await asyncio.sleep(0.5)
        assert [first.active, second.active].count(True) == 1, "exactly one runs the jobs"
        for scheduler in (first, second):  # both processes know the same schedule
            scheduler.broadcast_at(item("nq71:summary-1:20261122T0930", 0.3), [chat])
        await asyncio.sleep(1.0)
        assert len(fired) == 1
        assert await count(any_db, Occurrence) == 1
        assert await count(any_db, Delivery) == 1

        # The active one stops: the standby takes over and runs what comes due next.
        active, standby = (first, second) if first.active else (second, first)
        await active.shutdown()
        async with asyncio.timeout(5):
            while not standby.active:
                await asyncio.sleep(0.02)
        standby.broadcast_at(item("nq71:summary-2:20261122T0931", 0.2), [chat])
        await asyncio.sleep(0.8)
        assert await count(any_db, Occurrence) == 2
    finally:
        await first.shutdown()
        await second.shutdown()


async def test_a_short_outage_catches_up_once_a_long_one_is_recorded_missed(db: Database) -> None:
    chat = await one_chat(db)
    scheduler = Scheduler(
        db, on_enqueued=lambda: None, misfire_grace=timedelta(hours=1), lease_renew_s=0.1
    )
    # Both were due while loa was down: one 10 minutes ago, one 3 hours ago.
    scheduler.start()
    try:
        scheduler.broadcast_at(item("club:20261122T1630", -600), [chat])
        scheduler.broadcast_at(item("club:20261122T1330", -3 * 3600), [chat])
        await asyncio.sleep(0.8)
        async with db.session() as s:
            rows = (await s.exec(select(Occurrence).order_by(Occurrence.key))).all()
            delivered = (await s.exec(select(Delivery.occurrence_id))).all()
        late, caught_up = rows
        assert (late.key, caught_up.key) == ("club:20261122T1330", "club:20261122T1630")
        assert caught_up.missed_at is None and late.missed_at is not None
        assert delivered == [caught_up.id], "a missed occurrence is recorded, never sent"
    finally:
        await scheduler.shutdown()


async def test_a_repeating_job_runs_on_its_schedule_and_survives_a_failure(db: Database) -> None:
    woken: list[str] = []
    runs: list[int] = []

    async def flaky() -> None:
        runs.append(len(runs))
        if len(runs) == 1:
            raise RuntimeError("the database was away")

    scheduler = Scheduler(db, on_enqueued=lambda: woken.append("sender"), lease_renew_s=0.1)
    scheduler.every("every-second", flaky, second="*")
    scheduler.start()
    try:
        for _ in range(60):
            await asyncio.sleep(0.1)
            if len(runs) >= 2:
                break
    finally:
        await scheduler.shutdown()
    assert len(runs) >= 2  # the failed first run did not stop the second
    assert woken  # a run that finished wakes the sender for what it enqueued


async def test_a_sweep_runs_only_where_the_lease_is_held_and_wakes_the_sender(
    db: Database,
) -> None:
    woken: list[str] = []
    runs: list[str] = []
    first = Scheduler(db, on_enqueued=lambda: woken.append("first"), lease_renew_s=0.1)
    second = Scheduler(db, on_enqueued=lambda: woken.append("second"), lease_renew_s=0.1)

    def sweep(name: str) -> Callable[[], Awaitable[None]]:
        async def run() -> None:
            runs.append(name)
            if len(runs) == 2:
                raise RuntimeError("the database is away")  # the next run still comes

        return run

    for scheduler, name in ((first, "first"), (second, "second")):
        scheduler.start()
        scheduler.every("questions:overdue", sweep(name), timedelta(seconds=1))
    try:
        await asyncio.sleep(3.6)
        assert len(set(runs)) == 1 and len(runs) >= 3, "only the lease holder sweeps"
        assert len(woken) == len(runs) - 1, "woken after each sweep that did not fail"
    finally:
        await first.shutdown()
        await second.shutdown()
