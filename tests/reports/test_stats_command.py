"""/thongke: the quarter's reach for the person's units, in Vietnamese."""

from __future__ import annotations

from tests.chatworld import World
from tests.reports.test_reach_end_to_end import play


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
    lowest = ward.split('Nhóm có tỷ lệ "Đã hiểu" thấp nhất:\n')[1].splitlines()
    assert lowest == [
        "• Trường Tiểu học A – cán bộ: 50%",
        "• Lớp 1A – phụ huynh: 66,7%",  # a and b of 3
        "• Trường Tiểu học B – phụ huynh: 100%",  # the gone group's people were never reached
    ]

    school = "\n".join(await w.say(teacher, "/thongke"))
    assert "• Lượt người nhận: 2" in school and '• Đã bấm "Đã hiểu": 1 (100%)' in school

    refused = await w.say(parent, "/thongke")
    assert refused and refused[0].startswith("Xin lỗi, vai trò của bạn chưa được phép")
