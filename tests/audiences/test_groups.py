"""Groups loa is added to: bound by the staff who may, silent otherwise; removal and migration."""

from __future__ import annotations

import pytest
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.services.units import bound_chats, sync_units
from bot.storage.models import Chat, Delivery, Occurrence, Unit, utcnow
from content.units import load_units
from tests.chatworld import UNITS, World


async def the_group(world: World) -> Chat:
    async with world.db.session() as session:
        return (await session.exec(select(Chat).where(Chat.type == "group"))).one()


async def test_added_by_someone_unregistered_the_group_stays_unbound_and_silent(
    world: World,
) -> None:
    stranger = await world.person("Người lạ")
    group = await world.group("Nhóm bán hàng", [stranger])

    assert await world.add_bot(group, by=stranger) == []
    chat = await the_group(world)
    assert (chat.unit_id, chat.audience, chat.active) == (None, None, True)
    # It told the stranger privately why, never the group.
    [why] = await world.news(stranger)
    assert why.startswith("Bạn vừa thêm loa vào nhóm «Nhóm bán hàng»")


async def test_a_parent_cannot_bind_either(world: World) -> None:
    parent = await world.person("Phụ huynh Lan")
    await world.grant(parent, "parent", "th-a-1a")
    group = await world.group("Phụ huynh 1A", [parent])
    assert await world.add_bot(group, by=parent) == []
    assert (await the_group(world)).unit_id is None


async def test_a_teacher_of_school_a_binds_only_to_school_a(world: World) -> None:
    teacher = await world.person("Cô Hạnh")
    await world.grant(teacher, "teacher", "th-a-1a")
    parent = await world.person("Anh Minh")
    group = await world.group("Phụ huynh lớp 1A", [teacher, parent])

    [prompt] = await world.add_bot(group, by=teacher)
    assert prompt.startswith("Xin chào! Nhóm này thuộc đơn vị nào?")
    labels = [label for label, _ in await world.last_buttons(group)]
    assert labels == ["Cả Trường Tiểu học A", "Lớp 1A", "Lớp 2A"]

    # A forged tap naming school B's class is refused, as is a parent's tap.
    class_b = await world.unit("th-b-1b")
    toast = await world.forge_press(group, teacher, f"bind:1:a:{class_b}:parents")
    assert toast is not None and toast.startswith("Bạn không có quyền gắn nhóm")
    class_a = await world.unit("th-a-1a")
    toast = await world.press(group, parent, f"bind:1:p:{class_a}")
    assert toast is not None and toast.startswith("Bạn không có quyền gắn nhóm")
    assert (await the_group(world)).unit_id is None

    await world.press(group, teacher, f"bind:1:p:{class_a}")
    labels = [label for label, _ in await world.last_buttons(group)]
    assert labels == ["Phụ huynh", "Học sinh", "Giáo viên"]
    await world.press(group, teacher, f"bind:1:a:{class_a}:parents")
    [done] = [m["text"] for m in await world.bot_messages(group)]  # the prompt, edited
    assert done.startswith("Đã gắn nhóm với Lớp 1A, dành cho phụ huynh (2 thành viên).")
    chat = await the_group(world)
    assert (chat.unit_id, chat.audience, chat.member_count) == (class_a, "parents", 2)
    assert chat.member_count_at is not None and chat.bound_by is not None

    toast = await world.forge_press(group, teacher, f"bind:1:a:{class_a}:teachers")
    assert toast == "Nhóm này đã được gắn với một đơn vị rồi."


async def test_removal_deactivates_and_migration_keeps_the_binding(world: World) -> None:
    admin = await world.person("Thầy Hùng")
    await world.grant(admin, "school_admin", "th-a")
    group = await world.group("Giáo viên trường A", [admin])
    await world.add_bot(group, by=admin)
    school = await world.unit("th-a")
    await world.press(group, admin, f"bind:1:p:{school}")
    await world.press(group, admin, f"bind:1:a:{school}:teachers")

    new_id = await world.sandbox.migrate(group)
    await world.pump()
    chat = await the_group(world)
    assert chat.platform_chat_id == str(new_id)
    assert (chat.unit_id, chat.audience, chat.active) == (school, "teachers", True)

    await world.sandbox.remove_member(new_id, 1000000007)
    await world.pump()
    assert (await the_group(world)).active is False

    # Added back, it keeps its binding and says nothing more.
    assert await world.add_bot(new_id, by=admin) == []
    chat = await the_group(world)
    assert (chat.active, chat.unit_id) == (True, school)


@pytest.fixture
def world(any_world: World) -> World:
    """These tests run on both engines."""
    return any_world


async def test_a_unit_removed_from_units_yaml_takes_its_groups_with_it(world: World) -> None:
    await world.bound_group("Phụ huynh 1B", "th-b-1b", "parents", [])
    async with world.db.session() as session:
        assert len(await bound_chats(session, ["parents"], None)) == 1
    without_b = [s for s in load_units(UNITS) if not s.code.startswith("th-b")]
    await sync_units(world.db, without_b)
    async with world.db.session() as session:
        assert await bound_chats(session, ["parents"], None) == []
        assert await bound_chats(session, ["parents"], [await ward_id(session)]) == []


async def ward_id(session: AsyncSession) -> int:
    unit = (await session.exec(select(Unit).where(Unit.code == "phuong-a"))).one()
    assert unit.id is not None
    return unit.id


async def test_only_the_person_who_added_loa_or_an_official_binds(world: World) -> None:
    """Another school's admin who is a member of the group cannot bind it to their school,
    even with a tap forged for it; an official may."""
    teacher = await world.person("Cô Hạnh")
    await world.grant(teacher, "teacher", "th-a")
    other_admin = await world.person("Thầy Bảo")
    await world.grant(other_admin, "school_admin", "th-b")
    group = await world.group("Phụ huynh lớp 1A", [teacher, other_admin])
    await world.add_bot(group, by=teacher)

    class_b = await world.unit("th-b-1b")
    toast = await world.forge_press(group, other_admin, f"bind:1:a:{class_b}:parents")
    assert toast is not None and toast.startswith("Bạn không có quyền gắn nhóm")
    assert (await the_group(world)).unit_id is None

    official = await world.person("Cán bộ Hòa")
    await world.grant(official, "official", "phuong-a")
    await world.sandbox.add_member(group, official)
    class_a = await world.unit("th-a-1a")
    assert await world.forge_press(group, official, f"bind:1:a:{class_a}:parents") is None
    assert (await the_group(world)).unit_id == class_a


async def test_a_migration_seen_late_moves_what_waited_to_the_new_row(world: World) -> None:
    """The new id was seen first (a row of its own): the old row retires, and the posts that
    were waiting for it go to the group under its new id instead of failing as inactive."""
    parent = await world.person("Anh Minh")
    group = await world.bound_group("Phụ huynh 1A", "th-a-1a", "parents", [parent])
    new_id = await world.sandbox.migrate(group)
    async with world.db.session() as session:
        old = (await session.exec(select(Chat).where(Chat.type == "group"))).one()
        new = Chat(platform="telegram", platform_chat_id=str(new_id), type="group")
        post = Occurrence(key="k", title="t", text="t", due_at=utcnow())
        session.add_all([new, post])
        await session.flush()
        assert old.id is not None and post.id is not None
        session.add(Delivery(occurrence_id=post.id, chat_id=old.id, platform="telegram"))
        await session.commit()

    await world.pump()

    async with world.db.session() as session:
        waiting = (await session.exec(select(Delivery))).one()
        retired = await session.get(Chat, old.id)
    assert waiting.chat_id == new.id and waiting.status == "pending"
    assert retired is not None and retired.active is False


async def test_ganhom_in_a_private_chat_says_where_it_belongs(world: World) -> None:
    teacher = await world.person("Cô Hoa")
    await world.grant(teacher, "teacher", "th-a")
    [answer] = await world.say(teacher, "/ganhom")
    assert answer.startswith("Lệnh /ganhom chỉ dùng trong nhóm"), answer
