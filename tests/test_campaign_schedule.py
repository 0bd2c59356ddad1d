"""Campaign posts become occurrences: the right chats by audience and unit, chosen when the post
fires; one occurrence per firing however often loa starts; late ones caught up or recorded."""

from __future__ import annotations

import asyncio
import logging
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml
from sqlmodel import col, select

from bot.services.campaigns import chats_for, first_seen, plan, schedule_all, to_schedule
from bot.storage.db import Database
from bot.storage.models import Chat, Delivery, Occurrence, Unit, utcnow
from content.blackouts import Blackout, Blackouts
from content.campaign.schema import VN, Campaign
from content.templates import Templates
from scheduler.runner import Scheduler

TEMPLATE = "<b>Tin thử</b> gửi {{ audience }}"


def content(folder: Path, *posts: dict[str, Any]) -> Path:
    """A content folder with one campaign of `posts` and their template."""
    (folder / "campaigns").mkdir(parents=True)
    (folder / "templates" / "posts").mkdir(parents=True)
    (folder / "templates" / "posts" / "thu.j2").write_text(TEMPLATE, encoding="utf-8")
    doc = {"id": "thu", "plan": "ke_hoach", "title": "Đợt thử", "posts": list(posts)}
    text = yaml.safe_dump(doc, allow_unicode=True, sort_keys=False)
    (folder / "campaigns" / "thu.yaml").write_text(text, encoding="utf-8")
    return folder


def post(post_id: str, due: datetime, **fields: Any) -> dict[str, Any]:
    return {
        "id": post_id,
        "kind": "announcement",
        "audiences": ["parents"],
        "schedule": {"at": due.astimezone(VN).replace(microsecond=0)},
        "valid_for": 24,
        "template": "posts/thu.j2",
        **fields,
    }


def in_(seconds: float) -> datetime:
    return utcnow() + timedelta(seconds=seconds)


async def ward(db: Database) -> dict[str, int]:
    """Ward w: school s1 (class s1-6a) and school s2; groups by audience and unit."""
    async with db.session() as s:
        w = Unit(code="w", name="Phường", kind="ward")
        s.add(w)
        await s.flush()
        s1 = Unit(code="s1", name="Trường 1", kind="school", parent_id=w.id)
        s2 = Unit(code="s2", name="Trường 2", kind="school", parent_id=w.id)
        s.add_all([s1, s2])
        await s.flush()
        c6a = Unit(code="s1-6a", name="Lớp 6A", kind="class", parent_id=s1.id)
        s.add(c6a)
        await s.flush()
        groups = {
            "6a_parents": (c6a.id, "parents", True),
            "s2_parents": (s2.id, "parents", True),
            "s1_teachers": (s1.id, "teachers", True),
            "s1_parents_gone": (s1.id, "parents", False),  # the bot was removed
            "unbound": (None, None, True),
        }
        chats = {
            name: Chat(
                platform="telegram", platform_chat_id=f"-{i}", type="group", title=name,
                unit_id=unit, audience=audience, active=active,
            )
            for i, (name, (unit, audience, active)) in enumerate(groups.items(), start=1)
        }  # fmt: skip
        s.add_all(chats.values())
        await s.commit()
        return {name: chat.id for name, chat in chats.items() if chat.id is not None}


async def bind_later(db: Database, unit_code: str, audience: str) -> int:
    async with db.session() as s:
        unit = (await s.exec(select(Unit).where(Unit.code == unit_code))).one()
        chat = Chat(
            platform="telegram", platform_chat_id="-99", type="group", title="mới",
            unit_id=unit.id, audience=audience,
        )  # fmt: skip
        s.add(chat)
        await s.commit()
        assert chat.id is not None
        return chat.id


async def occurrences(db: Database) -> dict[str, Occurrence]:
    async with db.session() as s:
        return {o.key: o for o in (await s.exec(select(Occurrence))).all()}


async def recipients(db: Database, key: str) -> set[int]:
    async with db.session() as s:
        query = (
            select(Delivery.chat_id)
            .join(Occurrence, col(Occurrence.id) == Delivery.occurrence_id)
            .where(Occurrence.key == key)
        )
        return set((await s.exec(query)).all())


async def until(condition: Any, timeout: float = 10.0) -> None:
    async with asyncio.timeout(timeout):
        while not await condition():
            await asyncio.sleep(0.05)


def started(db: Database, grace: timedelta = timedelta(hours=1)) -> Scheduler:
    scheduler = Scheduler(db, on_enqueued=lambda: None, misfire_grace=grace, lease_renew_s=0.1)
    scheduler.start()
    return scheduler


def test_one_occurrence_per_post_due_time_and_audience(tmp_path: Path) -> None:
    folder = content(tmp_path)
    quiz = post(
        "cau_hoi",
        datetime(2026, 9, 8, 19, 30, tzinfo=VN),
        kind="quiz",
        audiences=["parents", "teachers"],
        units=["s1"],
        valid_for=72,
        quiz={"question": "Ai ban hành?", "options": ["Bộ Chính trị", "Chính phủ"], "answer": 0},
    )
    club = {
        **post("clb", datetime(2027, 1, 1, tzinfo=VN), kind="club_notice"),
        "schedule": {
            "every": {
                "weekday": "thursday", "time": "16:30",
                "from": date(2027, 1, 28), "until": date(2027, 2, 25),
            },
            "skip": [date(2027, 2, 4)],
        },
        "valid_for": None,
        "valid_until": datetime(2027, 3, 1, 23, 59, tzinfo=VN),
        "rsvp": {"options": ["Con sẽ tham gia", "Chưa tham gia được"]},
    }  # fmt: skip
    campaign = Campaign.model_validate(
        {"id": "thu", "plan": "ke_hoach", "title": "Đợt thử", "posts": [quiz, club]}
    )
    tet = {"from": date(2027, 2, 5), "until": date(2027, 2, 13), "reason": "Tết"}
    blackouts = Blackouts((Blackout.model_validate(tet),))

    planned = {
        p.broadcast.key: p for p in plan([campaign], Templates(folder / "templates"), blackouts)
    }

    assert sorted(planned) == [
        "c:thu:cau_hoi:20260908T1930:parents",
        "c:thu:cau_hoi:20260908T1930:teachers",
        # 4 Feb skipped by the post, 11 Feb by the Tết blackout
        "c:thu:clb:20270128T1630:parents",
        "c:thu:clb:20270218T1630:parents",
        "c:thu:clb:20270225T1630:parents",
    ]
    teachers = planned["c:thu:cau_hoi:20260908T1930:teachers"]
    b = teachers.broadcast
    assert (teachers.audience, teachers.units) == ("teachers", ("s1",))
    assert b.text == "<b>Tin thử</b> gửi teachers"
    assert (b.kind, b.source) == ("quiz", "campaign:thu/cau_hoi")
    assert b.meta == {"answer": 0, "options": ["Bộ Chính trị", "Chính phủ"]}
    assert [x.data for x in b.buttons] == ["quiz:{occurrence}:0", "quiz:{occurrence}:1"]
    assert b.due_at == datetime(2026, 9, 8, 19, 30, tzinfo=VN)
    assert b.valid_until == b.due_at + timedelta(hours=72)
    assert "Đợt thử" in b.title
    club_feb = planned["c:thu:clb:20270218T1630:parents"]
    assert club_feb.units is None
    assert club_feb.broadcast.meta == {"options": ["Con sẽ tham gia", "Chưa tham gia được"]}
    assert club_feb.broadcast.kind == "club_notice"
    assert club_feb.broadcast.valid_until == datetime(2027, 3, 1, 23, 59, tzinfo=VN)


async def test_chats_by_audience_and_unit_subtree(any_db: Database) -> None:
    chats = await ward(any_db)

    async def of(audience: str, *codes: str) -> set[str]:
        ids = await chats_for(any_db, audience, codes or None)
        return {name for name, chat_id in chats.items() if chat_id in ids}

    assert await of("parents") == {"6a_parents", "s2_parents"}  # active and bound
    assert await of("parents", "s1") == {"6a_parents"}  # the class is below the school
    assert await of("parents", "w") == {"6a_parents", "s2_parents"}
    assert await of("parents", "s1-6a", "s2") == {"6a_parents", "s2_parents"}
    assert await of("teachers", "s1") == {"s1_teachers"}
    assert await of("teachers", "s1-6a") == set()  # not above the class
    assert await of("parents", "no-such-unit") == set()
    assert await of("students") == set()


async def test_a_group_bound_after_start_still_gets_it(any_db: Database, tmp_path: Path) -> None:
    chats = await ward(any_db)
    folder = content(tmp_path, post("hop_phu_huynh", in_(1.5), units=["s1"]))
    scheduler = started(any_db)
    try:
        [item] = await schedule_all(
            any_db, scheduler, folder, Templates(folder / "templates"), utcnow()
        )
        late = await bind_later(any_db, "s1-6a", "parents")  # after start, before it is due
        key = item.broadcast.key

        async def fired() -> bool:
            return key in await occurrences(any_db)

        await until(fired)
    finally:
        await scheduler.shutdown()
    assert await recipients(any_db, key) == {chats["6a_parents"], late}
    occurrence = (await occurrences(any_db))[key]
    assert (occurrence.kind, occurrence.source) == ("announcement", "campaign:thu/hop_phu_huynh")
    assert occurrence.missed_at is None


async def test_each_start_rebuilds_the_same_jobs_and_a_post_fires_once(
    any_db: Database, tmp_path: Path
) -> None:
    chats = await ward(any_db)
    soon, later = in_(1.0), in_(3600)
    folder = content(
        tmp_path,
        post("sap_toi", soon, audiences=["parents", "teachers"]),
        post("de_sau", later),
    )
    templates = Templates(folder / "templates")
    first = started(any_db)
    try:
        await schedule_all(any_db, first, folder, templates, utcnow())
        jobs = first.job_ids()
        await schedule_all(any_db, first, folder, templates, utcnow())  # a second run: no doubles
        assert first.job_ids() == jobs
        assert len(jobs) == 3 and all(job.startswith("c:thu:") for job in jobs)

        async def fired() -> bool:
            return len(await occurrences(any_db)) == 2

        await until(fired)
    finally:
        await first.shutdown()

    second = started(any_db)  # loa restarts: what was enqueued is not scheduled again
    try:
        await schedule_all(any_db, second, folder, templates, utcnow())
        assert second.job_ids() == [j for j in jobs if ":de_sau:" in j]
        await asyncio.sleep(0.5)
    finally:
        await second.shutdown()
    found = await occurrences(any_db)
    assert len(found) == 2
    parents, teachers = (
        f"c:thu:sap_toi:{soon.astimezone(VN):%Y%m%dT%H%M}:{audience}"
        for audience in ("parents", "teachers")
    )
    assert await recipients(any_db, parents) == {chats["6a_parents"], chats["s2_parents"]}
    assert await recipients(any_db, teachers) == {chats["s1_teachers"]}


async def test_late_posts_catch_up_once_or_are_recorded_missed(
    any_db: Database, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    chats = await ward(any_db)
    folder = content(
        tmp_path,
        post("vua_qua", in_(-10)),  # within the grace: sent late, once
        post("qua_lau", in_(-300)),  # beyond the grace: recorded missed, never sent
        post("tuan_truoc", in_(-8 * 24 * 3600)),  # before the lookback: history, left alone
    )
    caplog.set_level(logging.INFO)
    await first_seen(any_db, {"thu"}, utcnow() - timedelta(days=30))  # loaded at an earlier start
    scheduler = started(any_db, grace=timedelta(seconds=60))
    try:
        pending = await schedule_all(
            any_db, scheduler, folder, Templates(folder / "templates"), utcnow()
        )
        assert sorted(p.broadcast.key.split(":")[2] for p in pending) == ["qua_lau", "vua_qua"]

        async def settled() -> bool:
            return len(await occurrences(any_db)) == 2

        await until(settled)
        await asyncio.sleep(0.3)  # nothing more comes
    finally:
        await scheduler.shutdown()
    found = {key.split(":")[2]: o for key, o in (await occurrences(any_db)).items()}
    assert sorted(found) == ["qua_lau", "vua_qua"]
    assert found["vua_qua"].missed_at is None
    assert await recipients(any_db, found["vua_qua"].key) == {
        chats["6a_parents"],
        chats["s2_parents"],
    }
    assert found["qua_lau"].missed_at is not None
    assert await recipients(any_db, found["qua_lau"].key) == set()
    missed_lines = [r.getMessage() for r in caplog.records if "missed" in r.getMessage()]
    assert len(missed_lines) == 1 and found["qua_lau"].key in missed_lines[0]
    assert "Tin thử" not in caplog.text  # logs never hold message text
    # The next start finds both rows and schedules neither again.
    planned = plan(
        [Campaign.model_validate(yaml.safe_load((folder / "campaigns/thu.yaml").read_text()))],
        Templates(folder / "templates"),
        Blackouts(),
    )
    assert await to_schedule(any_db, planned, utcnow()) == []


async def test_a_fresh_database_misses_nothing_due_before_its_first_start(
    any_db: Database, tmp_path: Path
) -> None:
    await ward(any_db)
    folder = content(
        tmp_path,
        post("hom_qua", in_(-24 * 3600)),  # yesterday: before loa first ran, not missed
        post("sap_toi", in_(3600)),
    )
    templates = Templates(folder / "templates")
    scheduler = started(any_db, grace=timedelta(seconds=60))
    try:
        pending = await schedule_all(any_db, scheduler, folder, templates, utcnow())
        await asyncio.sleep(0.5)  # a missed job would be recorded by now
    finally:
        await scheduler.shutdown()
    assert [p.broadcast.key.split(":")[2] for p in pending] == ["sap_toi"]
    assert await occurrences(any_db) == {}
    # Two hours later (loa was down): what fell due since the first start is the scheduler's
    # to catch up or record missed; yesterday's post stays history.
    later = utcnow() + timedelta(hours=2)
    pending = await schedule_all(any_db, scheduler, folder, templates, later)
    assert [p.broadcast.key.split(":")[2] for p in pending] == ["sap_toi"]
