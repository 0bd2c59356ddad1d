"""Task reminders ("06 rõ"): a plan duty with a deadline reminds its owner unit's staff, and
their answer is stored as the task's result."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import date, timedelta
from pathlib import Path

import pytest
from sqlmodel import col, select

from bot.config import DEFAULT_CONTENT_DIR
from bot.delivery.sender import ChannelSender
from bot.services import invites, tasks
from bot.services.broadcasts import Broadcast, enqueue
from bot.services.campaigns import Targets
from bot.services.retention import purge_free_text
from bot.storage.models import RoleName, Task, TaskAnswer, TaskStatus, utcnow
from content.templates import Templates
from tests.chatworld import BOT_ID, World
from tests.delivery.conftest import send_all


@pytest.fixture
def world(any_world: World) -> World:
    """These tests run on both engines."""
    return any_world


class Recorder:
    """Stands in for the scheduler: keeps what it is asked to run, to fire it by hand."""

    def __init__(self) -> None:
        self.jobs: list[tuple[Broadcast, Targets]] = []

    def broadcast_at(self, broadcast: Broadcast, chats: Targets) -> None:
        self.jobs.append((broadcast, chats))


def plan_folder(tmp_path: Path, deadline: date) -> Path:
    (tmp_path / "plans").mkdir()
    (tmp_path / "plans" / "p.yaml").write_text(
        f"""
id: thu_nghiem
title: Kế hoạch thử
issuing_unit: UBND phường A
period: {{start: 2026, end: 2027}}
duties:
- owner: PHONG VAN HOA - XA HOI
  what: Tổ chức 02 chuyên đề về Nghị quyết 71 cho cán bộ, giáo viên
  deadline: {deadline}
  result: 02 chuyên đề, 100% cán bộ tham dự
  remind_days_before: 3
- owner: Trường Tiểu học A
  owner_unit: th-a
  what: Chọn 01 mô hình điển hình
  deadline: {deadline}
- owner: UBND phường A
  owner_unit: phuong-a
  what: Sơ kết 6 tháng thực hiện kế hoạch
  deadline: {deadline}
- owner: Phòng Văn hóa - Xã hội
  what: Báo cáo năm (không có hạn cụ thể)
""",
        encoding="utf-8",
    )
    return tmp_path


def templates() -> Templates:
    return Templates(DEFAULT_CONTENT_DIR / "templates")


async def fire(world: World, jobs: Sequence[tuple[Broadcast, Targets]]) -> None:
    """What the scheduler does when the reminders come due (the clock jumps to their time)."""
    for broadcast, chats in jobs:
        await enqueue(world.db, replace(broadcast, due_at=utcnow()), await chats())
    await send_all(ChannelSender(world.db, world.adapter, rate_per_s=0), world.db)


async def test_a_duty_reminds_its_units_staff_who_answer_with_the_result(
    world: World, tmp_path: Path
) -> None:
    officer = await world.person("Cán bộ VHXH")
    await world.grant(officer, "official", "phong-vhxh")
    principal = await world.person("Hiệu trưởng A")
    await world.grant(principal, "school_admin", "th-a")
    parent = await world.person("Phụ huynh Lan")
    await world.grant(parent, "parent", "th-a-1a")
    teacher = await world.person("Giáo viên Hà")
    await world.grant(teacher, "teacher", "th-a-1a")
    folder = plan_folder(tmp_path, (utcnow() + timedelta(days=10)).date())

    scheduler = Recorder()
    assert await tasks.schedule_all(world.db, scheduler, folder, templates(), utcnow()) == 3
    by_key = {b.title: b for b, _ in scheduler.jobs}
    first = by_key["Nhắc việc: Tổ chức 02 chuyên đề về Nghị quyết 71 cho cán bộ, giáo viên"]
    assert first.due_at.date() == (utcnow() + timedelta(days=7)).date(), "3 days before, 08:00"

    await fire(world, scheduler.jobs)
    [reminder] = await world.news(officer)
    assert reminder.startswith("Nhắc việc theo kế hoạch\nTổ chức 02 chuyên đề")
    assert "Kết quả cần đạt: 02 chuyên đề, 100% cán bộ tham dự" in reminder
    assert [label for label, _ in await world.last_buttons(officer)] == [
        "Đã hoàn thành",
        "Đang thực hiện",
        "Gặp khó khăn",
    ]
    [school_reminder] = await world.news(principal)
    assert "Chọn 01 mô hình điển hình" in school_reminder
    assert await world.news(parent) == [], "parents are not a unit's staff"
    [for_the_school] = await world.news(teacher)
    assert "Chọn 01 mô hình điển hình" in for_the_school, "a teacher answers for the school"
    # ... but not for the ward's or the department's tasks: those reach the staff who may
    # answer for the ward (nobody here) and the department (its official) only.

    data = dict(await world.last_buttons(officer))["Đã hoàn thành"]
    assert await world.press(officer, officer, data) is None
    [asked] = await world.news(officer)
    assert asked.startswith("Đã ghi nhận «Đã hoàn thành»")
    [saved] = await world.say(officer, "Đã tổ chức 2 chuyên đề, 64/64 cán bộ dự")
    assert saved.startswith("Đã ghi kết quả cụ thể")
    async with world.db.session() as session:
        done = (await session.exec(select(TaskAnswer))).one()
    assert (done.status, done.details) == ("done", "Đã tổ chức 2 chuyên đề, 64/64 cán bộ dự")
    assert done.person_id == await world.person_id(officer)

    # A parent, or a teacher of another school, cannot answer for the school's task.
    school_task = dict(await world.last_buttons(principal))["Đang thực hiện"]
    toast = await world.forge_press(parent, parent, school_task)
    assert toast == "Việc này thuộc đơn vị khác: bạn không trả lời thay được."
    teacher_b = await world.person("Giáo viên B")
    await world.grant(teacher_b, "teacher", "th-b")
    toast = await world.forge_press(teacher_b, teacher_b, school_task)
    assert toast == "Việc này thuộc đơn vị khác: bạn không trả lời thay được."

    # The next start schedules nothing twice: reminded or answered tasks are done with.
    again = Recorder()
    assert await tasks.schedule_all(world.db, again, folder, templates(), utcnow()) == 0


async def test_tasks_are_kept_across_loads_and_past_deadlines_are_left_alone(
    world: World, tmp_path: Path
) -> None:
    folder = plan_folder(tmp_path, (utcnow() - timedelta(days=1)).date())
    assert await tasks.schedule_all(world.db, Recorder(), folder, templates(), utcnow()) == 0
    assert await tasks.schedule_all(world.db, Recorder(), folder, templates(), utcnow()) == 0
    async with world.db.session() as session:
        rows = (await session.exec(select(Task))).all()
    assert len(rows) == 3, "one row per duty with a deadline, however often loaded"
    assert {r.owner_unit_id for r in rows} == {
        await world.unit("phong-vhxh"),
        await world.unit("th-a"),
        await world.unit("phuong-a"),
    }, "by code, or by the unit's name ignoring case and diacritics"


async def test_free_text_is_dropped_after_the_retention_the_status_stays(world: World) -> None:
    async with world.db.session() as session:
        for key, age in (("old", 400), ("recent", 10)):
            task = Task(key=key, plan="p", title=key)
            session.add(task)
            await session.flush()
            assert task.id is not None
            session.add(
                TaskAnswer(
                    task_id=task.id,
                    status=TaskStatus.DONE,
                    details="2 buổi, cô Lan phụ trách",
                    answered_at=utcnow() - timedelta(days=age),
                )
            )
        await session.commit()
    assert await purge_free_text(world.db, timedelta(days=365)) == 1
    async with world.db.session() as session:
        query = select(Task.key, TaskAnswer.status, TaskAnswer.details).join(
            TaskAnswer, col(TaskAnswer.task_id) == Task.id
        )
        results = {key: (status, details) for key, status, details in await session.exec(query)}
    assert results == {"old": ("done", None), "recent": ("done", "2 buổi, cô Lan phụ trách")}
    assert await purge_free_text(world.db, timedelta(days=365)) == 0


async def test_a_reminder_for_a_unit_without_staff_waits_for_the_first_to_join(
    world: World, tmp_path: Path
) -> None:
    """A reminder that fired when nobody could receive it is not lost: the school's first
    teacher gets it on joining, and /viec shows officials the duties that reach nobody."""
    official = await world.person("Cán bộ phường")
    await world.grant(official, "official", "phuong-a")
    folder = plan_folder(tmp_path, (utcnow() + timedelta(days=10)).date())
    scheduler = Recorder()
    await tasks.schedule_all(world.db, scheduler, folder, templates(), utcnow())
    await fire(world, scheduler.jobs)  # school A has no staff yet: its reminder reaches nobody
    await world.news(official)  # the ward's own reminder
    [overview] = await world.say(official, "/viec")
    school_line = next(line for line in overview.splitlines() if "Chọn 01 mô hình" in line)
    assert "chưa có ai nhận được lời nhắc" in school_line

    async with world.db.session() as session:
        _, code = await invites.create(session, RoleName.TEACHER, await world.unit("th-a"), None)
        await session.commit()
    teacher = await world.sandbox.create_user("Cô Lan")
    await world.sandbox.create_chat("", type="private", user_id=teacher)
    await world.sandbox.add_member(teacher, BOT_ID)
    await world.say(teacher, f"/start {code}")
    await send_all(ChannelSender(world.db, world.adapter, rate_per_s=0), world.db)

    reminders = [text for text in await world.news(teacher) if "Chọn 01 mô hình" in text]
    assert len(reminders) == 1 and reminders[0].startswith("Nhắc việc theo kế hoạch")
    [overview] = await world.say(official, "/viec")
    school_line = next(line for line in overview.splitlines() if "Chọn 01 mô hình" in line)
    assert "chưa có ai nhận được lời nhắc" not in school_line
