"""Bugs a newcomer met in the first minutes (issue "The first five minutes"), each acted out."""

from __future__ import annotations

from datetime import timedelta

from sqlmodel import col, select

from bot.services import invites
from bot.storage.models import Announcement, RoleName, Task, TaskAnswer, utcnow
from tests.chatworld import World


async def test_a_first_contact_by_deep_link_shows_the_privacy_notice(world: World) -> None:
    official = await world.person("Cán bộ Hòa")
    await world.grant(official, "official", "phuong-a")
    async with world.db.session() as session:
        _, code = await invites.create(session, RoleName.TEACHER, await world.unit("th-a"), None)
        await session.commit()
    newcomer = await world.sandbox.create_user("Cô Lan")
    await world.sandbox.create_chat("", type="private", user_id=newcomer)
    await world.sandbox.add_member(newcomer, 1000000007)

    said = await world.say(newcomer, f"/start {code}")

    assert any("dữ liệu" in text and "/xoadulieu" in text for text in said), said
    assert any("giáo viên" in text.lower() for text in said), said


async def test_commands_and_phrases_work_with_or_without_diacritics(world: World) -> None:
    parent = await world.person("Chị Mai")
    [kept] = await world.say(parent, "/tôi")
    [kept_again] = await world.say(parent, "/toi")
    assert kept == kept_again and "loa" in kept
    [asked] = await world.say(parent, "xoa du lieu")
    assert "xóa" in asked.lower()
    assert [data for _, data in await world.last_buttons(parent)] == ["erase:yes", "erase:no"]


async def test_the_moi_example_is_one_moi_accepts(world: World) -> None:
    official = await world.person("Cán bộ Hòa")
    await world.grant(official, "official", "phuong-a")
    [usage] = await world.say(official, "/moi")
    example = usage.split("Ví dụ: ", 1)[1].split("\n", 1)[0]
    [created] = await world.say(official, example)
    assert created.startswith("Mã mời"), (example, created)


async def test_an_announcement_reaching_no_group_cannot_be_submitted(world: World) -> None:
    author = await world.person("Cán bộ Hòa")
    await world.grant(author, "official", "phuong-a")
    await world.say(author, "/thongbao Họp khu phố")
    await world.press(author, author, "ann:1:a:community:on")
    toast = await world.press(author, author, "ann:1:submit")
    assert toast is not None and toast.startswith("Chưa có nhóm nào")
    async with world.db.session() as session:
        status = (await session.exec(select(Announcement.status))).one()
    assert status == "draft"


async def test_a_passed_date_is_asked_again_not_moved_to_next_year(world: World) -> None:
    author = await world.person("Cán bộ Hòa")
    await world.grant(author, "official", "phuong-a")
    await world.say(author, "/thongbao Họp khu phố")
    await world.press(author, author, "ann:1:time")
    await world.news(author)
    yesterday = (utcnow() - timedelta(days=2)).astimezone()
    [again] = await world.say(author, f"07:30 {yesterday:%d/%m}")
    assert "thời gian đã qua" in again
    async with world.db.session() as session:
        due = (await session.exec(select(Announcement.due_at))).one()
    assert due is None


async def test_a_second_answer_is_kept_and_the_first_answerer_told(world: World) -> None:
    first = await world.person("Cô Hạnh")
    second = await world.person("Thầy Bảo")
    for person in (first, second):
        await world.grant(person, "teacher", "th-a")
    async with world.db.session() as session:
        task = Task(
            key="p:1", plan="p", title="Chọn mô hình", owner_unit_id=await world.unit("th-a"),
            deadline=utcnow() + timedelta(days=3),
        )  # fmt: skip
        session.add(task)
        await session.commit()
    await world.forge_press(first, first, f"task:{task.id}:doing")
    await world.news(first)
    await world.forge_press(second, second, f"task:{task.id}:done")

    [told] = await world.news(first)
    assert told.startswith("Thầy Bảo vừa trả lời «Đã hoàn thành»")
    async with world.db.session() as session:
        answers = (await session.exec(select(TaskAnswer).order_by(col(TaskAnswer.id)))).all()
    assert [(a.status, a.person_id) for a in answers] == [
        ("doing", await world.person_id(first)),
        ("done", await world.person_id(second)),
    ]
    [overview] = await world.say(first, "/viec")
    assert "Chọn mô hình" in overview and "đã hoàn thành" in overview


async def test_huy_leaves_the_flow_in_progress(world: World) -> None:
    author = await world.person("Cán bộ Hòa")
    await world.grant(author, "official", "phuong-a")
    [ask] = await world.say(author, "/thongbao")
    assert ask.startswith("Mời bạn gửi nội dung thông báo")
    [left] = await world.say(author, "/huy")
    assert left.startswith("Đã hủy việc bạn đang làm dở")
    [after] = await world.say(author, "Họp khu phố")
    assert not after.startswith("Bản nháp"), "the text after /huy is not taken for the flow"
    [none] = await world.say(author, "/huỷ")
    assert none == "Bạn không có việc nào đang làm dở."


async def test_a_teacher_is_not_pointed_to_a_command_they_may_not_use(world: World) -> None:
    teacher = await world.person("Cô Hạnh")
    await world.grant(teacher, "teacher", "th-a")
    [units] = await world.say(teacher, "/donvi")
    assert "/themdonvi" not in units
