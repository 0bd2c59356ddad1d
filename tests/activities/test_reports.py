"""/baocao: a teacher reports an activity of their school, step by step, and sends it."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest
from sqlmodel import select

from bot.config import DEFAULT_CONTENT_DIR
from bot.dispatch import Dispatcher
from bot.domain import Platform
from bot.inbox import Inbox
from bot.services.activities import EDITABLE
from bot.services.classify import classify
from bot.storage.models import ActivityReport, utcnow
from content.campaign.check import load_plans
from content.templates import Templates
from handlers import activities, build_router
from tests.activities.conftest import staff
from tests.chatworld import World

EXAMPLES = DEFAULT_CONTENT_DIR / "examples"
TEMPLATES = DEFAULT_CONTENT_DIR / "templates"


@pytest.fixture(autouse=True)
def example_plans(monkeypatch: pytest.MonkeyPatch) -> None:
    """loa runs with the example plans (the default content folder has none)."""
    monkeypatch.setattr(activities, "_plans_in", lambda _folder: load_plans(EXAMPLES))


async def reports(world: World) -> list[ActivityReport]:
    async with world.db.session() as session:
        return list((await session.exec(select(ActivityReport))).all())


async def to_date(world: World, teacher: int) -> None:
    """/baocao up to the question of the day: a thematic session of the NQ71 plan, 1st theme."""
    [ask] = await world.say(teacher, "/BáoCáo")  # case and diacritics do not matter
    assert "Báo cáo hoạt động" in ask
    [number] = [r.id for r in await reports(world)]
    assert await world.press(teacher, teacher, f"act:{number}:k:thematic_session") is None
    labels = [label for label, _ in await world.last_buttons(teacher)]
    assert "Kế hoạch khác" in labels
    assert await world.press(teacher, teacher, f"act:{number}:p:viet_yen_nq71") is None
    assert await world.press(teacher, teacher, f"act:{number}:t:0") is None


async def test_a_teacher_reports_a_thematic_session(world: World) -> None:
    teacher = await staff(world, "Cô Lan", "teacher", "th-a-1a")
    await to_date(world, teacher)
    [ask] = await world.say(teacher, "1/10")
    assert "giáo viên" in ask
    assert (await world.say(teacher, "30"))[0].startswith("Có bao nhiêu học sinh")
    assert (await world.say(teacher, "1.200"))[0].startswith("Có bao nhiêu phụ huynh")
    [notes] = await world.say(teacher, "0")
    assert "Ghi chú" in notes
    [summary] = await world.say(teacher, "Tổ chức ở hội trường, mời báo cáo viên")
    assert "Sinh hoạt chuyên đề" in summary and "1.200 học sinh" in summary
    [report] = await reports(world)
    assert report.classified_at is None, "a draft's notes are not labelled yet"
    assert await world.press(teacher, teacher, f"act:{report.id}:send") is None
    [report] = await reports(world)
    assert report.status == "sent" and report.unit_id == await world.unit("th-a")
    labelled = classify("Tổ chức ở hội trường, mời báo cáo viên")
    assert (report.category, report.sentiment) == (labelled.category, labelled.sentiment)
    assert report.classified_at is not None, "the notes are labelled as the report is sent"
    assert report.held_on is not None and (report.held_on.day, report.held_on.month) == (1, 10)
    assert report.participants == {"teachers": 30, "students": 1200, "parents": 0}
    assert (report.plan, report.notes) == (
        "viet_yen_nq71",
        "Tổ chức ở hội trường, mời báo cáo viên",
    )
    assert report.theme is not None and report.theme.startswith("Truyền thông ý nghĩa")


async def test_wrong_days_and_numbers_are_asked_again_in_vietnamese(world: World) -> None:
    teacher = await staff(world, "Cô Lan", "teacher", "th-a-1a")
    await to_date(world, teacher)
    assert (await world.say(teacher, "hôm qua"))[0].startswith("Chưa đọc được ngày")
    assert (await world.say(teacher, "31/2"))[0].startswith("Chưa đọc được ngày")
    tomorrow = utcnow() + timedelta(days=2)
    future = f"{tomorrow.day}/{tomorrow.month}/{tomorrow.year}"
    assert (await world.say(teacher, future))[0].startswith("Ngày này chưa đến")
    await world.say(teacher, "1/1")
    for wrong in ("ba mươi", "-3", "4,5", "100001"):
        [answer] = await world.say(teacher, wrong)
        assert answer.startswith("Số cán bộ, giáo viên phải là số nguyên từ 0 đến 100.000"), wrong
    assert (await world.say(teacher, "100000"))[0].startswith("Có bao nhiêu học sinh")
    [report] = await reports(world)
    assert report.participants == {"teachers": 100000}


async def test_a_report_survives_a_restart(world: World) -> None:
    teacher = await staff(world, "Cô Lan", "teacher", "th-a-1a")
    await to_date(world, teacher)
    await world.say(teacher, "2/1")
    dispatcher = Dispatcher(build_router(), db=world.db, templates=Templates(TEMPLATES))
    inbox = Inbox(world.db, {Platform.TELEGRAM: world.adapter}, dispatcher)
    again = replace(world, inbox=inbox)  # loa restarted: nothing kept but the database
    [ask] = await again.say(teacher, "12")
    assert ask.startswith("Có bao nhiêu học sinh")
    [report] = await reports(world)
    assert report.participants == {"teachers": 12}


async def test_a_teacher_cannot_report_for_another_school(world: World) -> None:
    teacher = await staff(world, "Cô Lan", "teacher", "th-a-1a")
    other = await staff(world, "Thầy Nam", "teacher", "th-b-1b")
    await world.say(teacher, "/baocao")
    [mine] = await reports(world)
    assert mine.unit_id == await world.unit("th-a")
    toast = await world.forge_press(other, other, f"act:{mine.id}:k:plan")
    assert toast == "Bạn chỉ báo cáo được hoạt động của đơn vị mình."
    parent = await staff(world, "Phụ huynh", "parent", "th-a-1a")
    toast = await world.forge_press(parent, parent, f"act:{mine.id}:send")
    assert toast == "Bạn chỉ báo cáo được hoạt động của đơn vị mình."
    [mine] = await reports(world)
    assert (mine.kind, mine.status) == (None, "draft")


async def test_a_sent_report_is_editable_for_24_hours(world: World) -> None:
    teacher = await staff(world, "Cô Lan", "teacher", "th-a-1a")
    await world.say(teacher, "/baocao")
    [report] = await reports(world)
    await world.press(teacher, teacher, f"act:{report.id}:k:plan")
    await world.press(teacher, teacher, f"act:{report.id}:p:-")
    for typed in ("1/1", "3", "0", "0"):
        await world.say(teacher, typed)
    await world.press(teacher, teacher, f"act:{report.id}:n:none")
    assert await world.press(teacher, teacher, f"act:{report.id}:send") is None
    assert await world.press(teacher, teacher, f"act:{report.id}:edit") is None
    assert await world.press(teacher, teacher, f"act:{report.id}:k:parent_meeting") is None
    async with world.db.session() as session:
        row = await session.get(ActivityReport, report.id)
        assert row is not None and row.kind == "parent_meeting"
        row.sent_at = utcnow() - EDITABLE
        session.add(row)
        await session.commit()
    toast = await world.forge_press(teacher, teacher, f"act:{report.id}:k:plan")
    assert toast == "Đã quá 24 giờ kể từ khi gửi, báo cáo không sửa được nữa."
