"""The promotion quota is known before sending: 50 parents on Zalo OA, a cap of 4 a month,
a fifth item waits for next month, the officials are told, and nothing is lost."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from bot.delivery.sender import POSTPONED
from bot.domain import Platform
from bot.platforms.zalo_oa import ZaloOaAdapter, next_month_start
from bot.sandbox import Sandbox, events
from bot.sandbox.state import User
from bot.services.broadcasts import Broadcast, enqueue
from bot.services.zalo_oa_quota import QuotaFlagger
from bot.storage.db import Database
from bot.storage.models import Delivery, Person, Role, RoleName, Unit, table_of
from tests.zalo_oa.conftest import Clock, MakeAdapter, follower
from tests.zalo_oa.world import TEMPLATES, running_loa


async def _official(db: Database, user_id: int) -> None:
    async with db.session() as session:
        unit = Unit(code="phuong", name="Phường Thử", kind="ward")
        person = Person(platform="zalo_oa", platform_user_id=str(user_id), display_name="Cán bộ")
        session.add_all([unit, person])
        await session.flush()
        assert unit.id is not None and person.id is not None
        session.add(Role(person_id=person.id, role=RoleName.OFFICIAL.value, unit_id=unit.id))
        await session.commit()


async def _ward(
    sandbox: Sandbox, make_adapter: MakeAdapter, db: Database, followers: int
) -> tuple[Clock, list[User], User, ZaloOaAdapter]:
    """`followers` parents and an official following the OA on 2 Dec 2026, 10:00 in Vietnam;
    the adapter with a cap of 4 promotions a month."""
    clock = Clock()
    clock.now = datetime(2026, 12, 2, 3, 0, tzinfo=UTC)
    sandbox.zalo_oa.clock = lambda: clock.now.timestamp()
    parents = [follower(sandbox, f"Phụ huynh {i}") for i in range(followers)]
    official = follower(sandbox, "Cán bộ phường")
    await _official(db, official.id)
    return clock, parents, official, make_adapter(db, monthly_quota=4, clock=clock)


async def test_a_fifth_item_in_a_month_waits_for_the_next_and_officials_are_told(
    sandbox: Sandbox, make_adapter: MakeAdapter, any_db: Database
) -> None:
    clock, parents, official, adapter = await _ward(sandbox, make_adapter, any_db, 50)
    async with running_loa(any_db, sandbox, adapter) as loa:
        # The official writes to the OA (an invite code, say): consultation is open to them.
        events.user_writes(sandbox, sandbox.state.chats[official.id], official, "Xin chào")
        chats = await loa.register([str(p.id) for p in parents])
        occurrences = []
        for day in range(5):
            item = Broadcast(
                key=f"tin-{day}", title=f"Tin số {day + 1}", text="Nội dung", due_at=clock.now
            )
            occurrences.append(await enqueue(any_db, item, chats))
            counts = await loa.send_all(clock=clock)
            clock.now += timedelta(days=1)
        assert counts == {"sent": 4 * 50, "retry_wait": 50}
        promotions = [e for e in sandbox.state.log if e.method == "message/promotion"]
        assert len(promotions) == 4 * 50 and all("error" not in e.params for e in promotions)

        d = table_of(Delivery).c
        async with any_db.reading() as conn:
            held = (
                await conn.execute(
                    select(d.next_attempt_at, d.error).where(d.occurrence_id == occurrences[4])
                )
            ).all()
        assert len(held) == 50
        assert {t for t, _ in held} == {next_month_start(clock.now)}
        assert all(e.startswith(POSTPONED) for _, e in held)

        flagger = QuotaFlagger(any_db, {Platform.ZALO_OA: adapter}, TEMPLATES, monthly_quota=4)
        assert await flagger.flag_once() == 1
        assert await flagger.flag_once() == 0  # told once
        told = [m.text or "" for m in sandbox.state.chats[official.id].messages.values()]
        (flag,) = [t for t in told if "hạn mức" in t]
        assert "Tin số 5" in flag and "50 người theo dõi" in flag and "năm 2027" in flag

        clock.now = next_month_start(clock.now) + timedelta(hours=3)
        assert await loa.send_all(clock=clock) == {"sent": 5 * 50}
    for parent in parents[:3]:
        texts = [m.text for m in sandbox.state.chats[parent.id].messages.values()]
        assert len(texts) == 5


async def test_an_item_that_expires_before_the_quota_reopens_is_flagged_as_not_going(
    sandbox: Sandbox, make_adapter: MakeAdapter, any_db: Database
) -> None:
    clock, parents, official, adapter = await _ward(sandbox, make_adapter, any_db, 3)
    async with running_loa(any_db, sandbox, adapter) as loa:
        events.user_writes(sandbox, sandbox.state.chats[official.id], official, "Xin chào")
        chats = await loa.register([str(p.id) for p in parents])
        first = Broadcast(key="sang", title="Tin buổi sáng", text="Nội dung", due_at=clock.now)
        await enqueue(any_db, first, chats)
        assert await loa.send_all(clock=clock) == {"sent": 3}
        # A second promotion the same day waits for tomorrow, but it is valid for two hours.
        late = Broadcast(
            key="chieu",
            title="Họp chiều nay",
            text="Nội dung",
            due_at=clock.now,
            valid_until=clock.now + timedelta(hours=2),
        )
        await enqueue(any_db, late, chats)
        assert await loa.send_all(clock=clock) == {"sent": 3, "retry_wait": 3}
        flagger = QuotaFlagger(any_db, {Platform.ZALO_OA: adapter}, TEMPLATES, monthly_quota=4)
        assert await flagger.flag_once() == 1
        told = [m.text or "" for m in sandbox.state.chats[official.id].messages.values()]
        (flag,) = [t for t in told if "Họp chiều nay" in t]
        assert "sẽ không nhận được tin qua Zalo OA" in flag and "12:00" in flag, flag
        assert "Tin không bị mất" not in flag
