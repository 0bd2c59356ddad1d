"""/thongke: the quarter's reach for the person's units, in Vietnamese."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import update

from bot.domain import Button
from bot.services.broadcasts import Broadcast
from bot.storage.models import Announcement, FeedbackItem, table_of, utcnow
from content.units import class_code
from tests.chatworld import World
from tests.reports.test_reach_end_to_end import _send, play

items = table_of(FeedbackItem)


async def test_an_official_sees_the_ward_and_a_teacher_their_school(any_world: World) -> None:
    w = any_world
    official, teacher, parent = [await w.person(n) for n in ("Lan", "Minh", "Hoa")]
    await w.grant(official, "official", "phuong-a")
    await w.grant(teacher, "teacher", "th-b")
    await play(w)

    ward = "\n".join(await w.say(official, "/thongke"))
    assert "• Bài đã gửi: 2" in ward
    assert "• Lượt gửi tới nhóm thành công: 5 (không gửi được: 1)" in ward
    assert "• Lượt người nhận: 10" in ward
    assert '• Đã bấm "Đã hiểu": 4 (66,7%)' in ward
    assert "• Trả lời câu hỏi: 4, trả lời đúng: 2 (50%)" in ward
    lowest = ward.split('Nhóm có tỷ lệ "Đã hiểu" thấp nhất:\n')[1].split("\n\n")[0].splitlines()
    assert lowest == [
        "• Trường Tiểu học A – cán bộ: 50%",
        "• Lớp 1A – phụ huynh: 66,7%",  # a and b of 3
        "• Trường Tiểu học B – phụ huynh: 100%",  # the gone group's people were never reached
    ]

    school = "\n".join(await w.say(teacher, "/thongke"))
    assert "• Lượt người nhận: 2" in school and '• Đã bấm "Đã hiểu": 1 (100%)' in school

    refused = await w.say(parent, "/thongke")
    assert refused and refused[0].startswith("Xin lỗi, vai trò của bạn chưa được phép")


async def _briefed_staff(w: World) -> tuple[int, int, int, int]:
    """School A's staff group (two known teachers, one stranger) and school B's sent a
    briefing; one teacher of A acknowledged. Returns the official, a teacher of A and of B,
    and the briefing's occurrence."""
    official = await w.person("Lan")
    await w.grant(official, "official", "phuong-a")
    minh, tam, nam = [await w.person(n) for n in ("Minh", "Tâm", "Nam")]
    await w.grant(minh, "teacher", "th-a")
    await w.grant(tam, "teacher", class_code("th-a", "Lớp 1A"))
    await w.grant(nam, "teacher", "th-b")
    stranger = await w.sandbox.create_user("Người lạ")
    staff_a = await w.bound_group("Cán bộ A", "th-a", "staff", [minh, tam, stranger])
    staff_b = await w.bound_group("Giáo viên B", "th-b", "teachers", [nam])
    brief = await _send(
        w,
        Broadcast(key="c:x:brief:1", title="Quán triệt NQ71", text="Nội dung",
                  buttons=(Button("Đã hiểu", "ack:{occurrence}"),), source="campaign:x/brief"),
        [staff_a, staff_b],
    )  # fmt: skip
    await w.press(staff_a, minh, f"ack:{brief}")
    return official, minh, nam, brief


async def test_staff_groups_show_who_has_not_acknowledged(any_world: World) -> None:
    w = any_world
    official, minh, nam, _ = await _briefed_staff(w)
    ward = "\n".join(await w.say(official, "/thongke"))
    assert (
        '• Cán bộ A (Trường Tiểu học A): «Quán triệt NQ71» – 2/3 người chưa bấm "Đã hiểu": Tâm'
        in ward
    )
    assert (
        '• Giáo viên B (Trường Tiểu học B): «Quán triệt NQ71» – 1/1 người chưa bấm "Đã hiểu": Nam'
        in ward
    )
    assert "Người lạ" not in ward and "không được nêu tên" in ward

    school_a = "\n".join(await w.say(minh, "/thongke"))
    assert "Tâm" in school_a and "Giáo viên B" not in school_a and "Nam" not in school_a
    school_b = "\n".join(await w.say(nam, "/thongke"))
    assert "Tâm" not in school_b and "Cán bộ A" not in school_b


async def test_an_announcements_author_sees_its_figures(any_world: World) -> None:
    w = any_world
    official, minh, _, brief = await _briefed_staff(w)
    author = await w.person_id(official)
    async with w.db.session() as session:
        a = Announcement(author_id=author, text="x", audiences=["staff"], status="sent",
                         unit_ids=[await w.unit("th-a"), await w.unit("th-b")],
                         occurrence_id=brief)  # fmt: skip
        session.add(a)
        await session.commit()
        number = a.id
    [figures] = await w.say(official, f"/thongke {number}")
    assert figures.startswith(f"Thống kê thông báo số {number}")
    assert "• Lượt gửi tới nhóm thành công: 2" in figures
    assert "• Lượt người nhận: 4" in figures
    assert '• Đã bấm "Đã hiểu": 1 (25%)' in figures
    [refused] = await w.say(minh, f"/thongke {number}")
    assert refused.startswith(f"Không tìm thấy thông báo số {number}")
    parent = await w.person("Hoa")
    [refused] = await w.say(parent, f"/thongke {number}")
    assert refused.startswith("Xin lỗi, vai trò của bạn chưa được phép")


async def test_an_official_elsewhere_who_teaches_here_does_not_see_its_figures(
    any_world: World,
) -> None:
    """Another official sees an announcement's figures only where they are an official: an
    official of the department who also teaches at school A does not see one sent to A."""
    w = any_world
    official, _, _, brief = await _briefed_staff(w)
    async with w.db.session() as session:
        a = Announcement(
            author_id=await w.person_id(official),
            text="x",
            audiences=["staff"],
            status="sent",
            unit_ids=[await w.unit("th-a")],
            occurrence_id=brief,
        )
        session.add(a)
        await session.commit()
        number = a.id
    both = await w.person("Cán bộ phòng, giáo viên trường A")
    await w.grant(both, "official", "phong-vhxh")
    await w.grant(both, "teacher", "th-a")
    [refused] = await w.say(both, f"/thongke {number}")
    assert refused.startswith(f"Không tìm thấy thông báo số {number}")
    ward = await w.person("Cán bộ phường")
    await w.grant(ward, "official", "phuong-a")
    [figures] = await w.say(ward, f"/thongke {number}")
    assert figures.startswith(f"Thống kê thông báo số {number}")


async def test_open_and_overdue_questions_of_the_viewers_units(any_world: World) -> None:
    w = any_world
    official, teacher_a, teacher_b, parent = [
        await w.person(n) for n in ("Lan", "Minh", "Nam", "Hoa")
    ]
    await w.grant(official, "official", "phuong-a")
    await w.grant(teacher_a, "teacher", "th-a")
    await w.grant(teacher_b, "teacher", "th-b")
    await w.grant(parent, "parent", class_code("th-a", "Lớp 1A"))
    for text in ("Khi nào có lịch thi ạ?", "Trường có xe đưa đón không ạ?", "Học phí bao nhiêu?"):
        await w.say(parent, text)
    async with w.db.session() as session:  # the first was asked five days ago
        await session.exec(
            update(items).where(items.c.id == 1).values(created_at=utcnow() - timedelta(days=5))
        )
        await session.commit()
    [(_, answer), _] = await w.last_buttons(teacher_a)
    await w.press(teacher_a, teacher_a, answer)
    await w.say(teacher_a, "Học phí theo quy định của thành phố ạ.")

    line = "Câu hỏi, góp ý của phụ huynh, người dân chưa trả lời: 2, trong đó 1 quá 96 giờ."
    assert line in "\n".join(await w.say(official, "/thongke"))
    assert line in "\n".join(await w.say(teacher_a, "/thongke"))
    other = "\n".join(await w.say(teacher_b, "/thongke"))
    assert "Không có câu hỏi, góp ý nào đang chờ trả lời." in other, "not another school's"
