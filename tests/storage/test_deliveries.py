"""The outbox's state machine, on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio

from sqlmodel import select

from bot.services.broadcasts import Broadcast, enqueue
from bot.storage import deliveries
from bot.storage.db import Database
from bot.storage.deliveries import Outcome, Result
from bot.storage.models import Chat, Delivery


async def add_chats(db: Database, audiences: list[str]) -> list[int]:
    async with db.session() as s:
        chats = [
            Chat(
                platform="telegram",
                platform_chat_id=str(-100 - i),
                type="group",
                audience=a,
                member_count=10 + i,
            )
            for i, a in enumerate(audiences)
        ]
        s.add_all(chats)
        await s.commit()
        return [c.id for c in chats if c.id is not None]


async def test_parents_wait_out_quiet_hours_unless_urgent(any_db: Database) -> None:
    parents, staff = await add_chats(any_db, ["parents", "staff"])
    await enqueue(any_db, Broadcast(key="evening", title="t", text="x"), [parents, staff])
    claimed = await deliveries.claim(any_db, "telegram", 10, quiet_for=("parents",))
    assert [c.chat_id for c in claimed] == [staff]
    assert await deliveries.claim(any_db, "telegram", 10, quiet_for=("parents",)) == []
    await enqueue(any_db, Broadcast(key="urgent", title="t", text="x", urgent=True), [parents])
    urgent = await deliveries.claim(any_db, "telegram", 10, quiet_for=("parents",))
    assert [c.chat_id for c in urgent] == [parents]
    assert [c.chat_id for c in await deliveries.claim(any_db, "telegram", 10)] == [parents]


async def test_concurrent_claims_never_share_a_row(any_db: Database) -> None:
    chats = await add_chats(any_db, ["staff"] * 60)
    await enqueue(any_db, Broadcast(key="k", title="t", text="x"), chats)
    batches = await asyncio.gather(*(deliveries.claim(any_db, "telegram", 7) for _ in range(12)))
    ids = [c.id for batch in batches for c in batch]
    assert len(ids) == len(set(ids)) == 60


async def test_sent_records_the_audience_size_and_crashes_become_uncertain(
    any_db: Database,
) -> None:
    a, b = await add_chats(any_db, ["staff", "staff"])
    await enqueue(any_db, Broadcast(key="k", title="t", text="x"), [a, b])
    first, second = await deliveries.claim(any_db, "telegram", 2)
    sent = Result(first.id, first.chat_id, Outcome.SENT, "m1", audience_size=first.member_count)
    await deliveries.record(any_db, [sent])
    assert await deliveries.recover_in_flight(any_db) == 1
    async with any_db.session() as s:
        rows = {d.chat_id: d for d in (await s.exec(select(Delivery))).all()}
    assert rows[a].status == "sent" and rows[a].audience_size == 10
    assert rows[b].status == "uncertain"
    # A late result for a row no longer in flight does not overwrite what recovery decided.
    await deliveries.record(any_db, [Result(second.id, second.chat_id, Outcome.SENT, "m2")])
    assert (await deliveries.status_counts(any_db)) == {"sent": 1, "uncertain": 1}
