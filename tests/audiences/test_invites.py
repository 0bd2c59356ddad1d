"""Invite codes from creation to joining, and every way a code can be wrong."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlmodel import col, select, update

from bot.services import invites
from bot.storage.models import Invite, Person, Role, RoleName, Throttle, utcnow
from tests.chatworld import World

CODE = re.compile(r"Mã: ([2-9A-Z]{4}(?:-[2-9A-Z]{4}){3})")


async def new_invite(world: World, *, uses: int = 5, days: int = 14, ago: int = 0) -> str:
    """A parents' invite to class 1A made `ago` days ago."""
    async with world.db.session() as session:
        _, code = await invites.create(
            session,
            RoleName.PARENT,
            await world.unit("th-a-1a"),
            None,
            uses=uses,
            days=days,
            now=utcnow() - timedelta(days=ago),
        )
        await session.commit()
    return code


async def roles(world: World, user: int) -> list[tuple[str, int]]:
    async with world.db.session() as session:
        query = (
            select(Role.role, Role.unit_id).join(Person).where(Person.platform_user_id == str(user))
        )
        return list((await session.exec(query)).all())


async def test_a_teacher_invites_parents_who_join_by_link_or_by_typing(world: World) -> None:
    teacher = await world.person("Cô Hạnh")
    await world.grant(teacher, "teacher", "th-a-1a")
    [created] = await world.say(teacher, "/moi phụ huynh th-a-1a")
    code = CODE.search(created)
    assert code is not None, created
    assert f"https://t.me/loa1000000007_bot?start={code[1]}" in created
    assert "Dùng được 500 lần" in created and "/huymoi" in created

    # The link opens the bot with "/start CODE"; on Zalo people type it, any case, any spacing.
    first = await world.person("Anh Minh")
    [joined] = await world.say(first, f"/start {code[1]}")
    assert joined.startswith("Chào mừng bạn! Bạn đã tham gia với vai trò phụ huynh – Lớp 1A")
    second = await world.person("Chị Thảo")
    [joined] = await world.say(second, code[1].lower().replace("-", " "))
    assert joined.startswith("Chào mừng bạn!")
    unit = await world.unit("th-a-1a")
    assert await roles(world, first) == await roles(world, second) == [("parent", unit)]

    [again] = await world.say(first, code[1])
    assert again.startswith("Bạn đã có vai trò phụ huynh – Lớp 1A rồi")
    async with world.db.session() as session:
        invite = (await session.exec(select(Invite))).one()
    assert invite.uses == 2, "joining twice spends no second use"
    assert code[1] not in str(invite.model_dump()), "only the code's hash is stored"


async def test_one_person_may_hold_several_roles(world: World) -> None:
    teacher = await world.person("Thầy Nam")
    await world.grant(teacher, "teacher", "th-a")
    [joined] = await world.say(teacher, await new_invite(world))
    assert joined.startswith("Chào mừng bạn!")
    assert sorted(r for r, _ in await roles(world, teacher)) == ["parent", "teacher"]
    [help_text] = await world.say(teacher, "/huongdan")
    assert "Dành cho cán bộ, giáo viên" in help_text


async def test_expired_revoked_used_up_and_wrong_codes_each_say_why(world: World) -> None:
    person = await world.person("Bà Tư")
    expired = await new_invite(world, days=14, ago=15)
    [answer] = await world.say(person, expired)
    assert answer.startswith("Mã mời này đã hết hạn.")

    official = await world.person("Cán bộ Hòa")
    await world.grant(official, "official", "phuong-a")
    revoked = await new_invite(world)
    async with world.db.session() as session:
        invite = (
            await session.exec(select(Invite).where(Invite.code_hash == invites.digest(revoked)))
        ).one()
    [done] = await world.say(official, f"/huymoi {invite.id}")
    assert done.startswith(f"Đã thu hồi mã mời số {invite.id}")
    [answer] = await world.say(person, revoked)
    assert answer.startswith("Mã mời này đã bị thu hồi.")

    once = await new_invite(world, uses=1)
    other = await world.person("Ông Sáu")
    [joined] = await world.say(other, once)
    assert joined.startswith("Chào mừng bạn!")
    [answer] = await world.say(person, once)
    assert answer.startswith("Mã mời này đã được dùng hết số lượt.")

    [answer] = await world.say(person, "/ma 2222-3333-4444-5555")
    assert answer.startswith("Mã mời không đúng.")
    assert await roles(world, person) == []


async def test_guessing_in_a_loop_is_throttled(world: World) -> None:
    guesser = await world.person("Kẻ đoán mò")
    good = await new_invite(world)
    answers = [
        (await world.say(guesser, invites.new_code()))[0] for _ in range(invites.WRONG_LIMIT)
    ]
    assert all(a.startswith("Mã mời không đúng.") for a in answers)

    # Now even a right code waits: the guesser cannot tell right from wrong any more.
    [answer] = await world.say(guesser, good)
    assert answer.startswith("Bạn đã nhập sai mã nhiều lần") and "15 phút" in answer
    assert await roles(world, guesser) == []

    await window_passes(world)
    [answer] = await world.say(guesser, good)
    assert answer.startswith("Chào mừng bạn!")


async def test_erasing_oneself_does_not_lift_the_lockout(world: World) -> None:
    guesser = await world.person("Kẻ đoán mò")
    good = await new_invite(world)
    for _ in range(invites.WRONG_LIMIT):
        await world.say(guesser, invites.new_code())
    await world.say(guesser, "/xoadulieu")
    await world.press(guesser, guesser, "erase:yes")
    assert await world.person_id(guesser) is None

    [notice, answer] = await world.say(guesser, good)  # met again: the notice first
    assert notice.startswith("Về dữ liệu cá nhân")
    assert answer.startswith("Bạn đã nhập sai mã nhiều lần"), answer
    assert await roles(world, guesser) == []

    await window_passes(world)
    [answer] = await world.say(guesser, good)
    assert answer.startswith("Chào mừng bạn!")
    async with world.db.session() as session:
        assert (await session.exec(select(Throttle))).all() == [], "a window over leaves no row"


async def window_passes(world: World) -> None:
    async with world.db.session() as session:
        await session.exec(
            update(Throttle).values(since=col(Throttle.since) - invites.WRONG_WINDOW)
        )
        await session.commit()


async def test_moi_explains_itself_and_refuses_bad_input(world: World) -> None:
    official = await world.person("Cán bộ Hòa")
    await world.grant(official, "official", "phuong-a")
    [usage] = await world.say(official, "/moi")
    assert "Cú pháp" in usage and "th-a-1a" in usage and "giaovien" in usage
    [answer] = await world.say(official, "/moi hieutruong th-a")
    assert answer.startswith("Không có vai trò «hieutruong»")
    [answer] = await world.say(official, "/moi giaovien th-z")
    assert answer.startswith("Không có đơn vị mã «th-z»")
    [answer] = await world.say(official, "/moi giaovien phuong-a")
    assert answer.startswith("Không mời giáo viên vào «Phường A» được: giáo viên thuộc một trường")
    [answer] = await world.say(official, "/moi giaovien th-a 0")
    assert "không phải là số hợp lệ" in answer
    [answer] = await world.say(official, "/moi giaovien th-a 10 365")
    assert "không phải là số hợp lệ" in answer

    group = await world.group("Cán bộ phường", [official])
    await world.add_bot(group, by=official)
    await world.sandbox.write(group, official, "/moi giaovien th-a")
    await world.pump()
    [answer] = await world.news(group)
    assert answer.startswith("Lệnh /moi chỉ dùng trong tin nhắn riêng"), "no code in a group"
    async with world.db.session() as session:
        assert (await session.exec(select(Invite))).all() == []


async def test_code_shapes() -> None:
    code = invites.new_code()
    assert re.fullmatch(r"[2-9A-HJ-NP-Z]{4}(-[2-9A-HJ-NP-Z]{4}){3}", code)
    assert invites.normalize(f"  {code.lower().replace('-', ' ')} ") == code.replace("-", "")
    assert invites.normalize("xin chào cô") is None
    assert invites.digest(code) == invites.digest(code.replace("-", "").lower())
    # 16 characters of 32 letters: 80 bits, above the 64 the plan asks for
    assert len(invites.ALPHABET) ** invites.LENGTH == 2**80


@pytest.fixture
def world(any_world: World) -> World:
    """These tests run on both engines."""
    return any_world


async def test_a_staff_role_outside_any_school_reaches_nothing(world: World) -> None:
    """Should a teacher's role ever be held at the ward (an old invite, a hand edit), it gives
    no power over the ward."""
    teacher = await world.person("Giáo viên lạc")
    await world.grant(teacher, "teacher", "phuong-a")
    [answer] = await world.say(teacher, "/moi phuhuynh th-b-1b")
    assert answer.startswith("Xin lỗi, vai trò của bạn chưa được phép")
    [answer] = await world.say(teacher, "/donvi")
    assert answer.startswith("Xin lỗi, vai trò của bạn chưa được phép")
