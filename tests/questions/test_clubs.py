"""Club notices finished: the school's staff see the RSVP counts (/dangky); a day before the
session those who said yes, and can be written to in private, are reminded."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest
from pydantic import ValidationError
from sqlmodel import col, select

from bot.delivery.sender import ChannelSender
from bot.domain import Button
from bot.services import rsvp
from bot.services.broadcasts import Broadcast, enqueue
from bot.services.campaigns import answer_meta
from bot.storage.models import Chat, Delivery, Occurrence, utcnow
from content.campaign.schema import VN, Post
from content.templates import Templates
from tests.chatworld import World
from tests.delivery.conftest import send_all
from tests.handlers.fakes import TEMPLATES_DIR
from tests.questions.conftest import Ward

OPTIONS = ["Con sẽ tham gia", "Chưa tham gia được"]


async def club_notice(world: World, ward: Ward, session_in: timedelta) -> int:
    async with world.db.session() as session:
        chat = (
            await session.exec(select(Chat.id).where(Chat.platform_chat_id == str(ward.group_a)))
        ).one()
    assert chat is not None
    when = utcnow() + session_in
    notice = Broadcast(
        key="c:clb:tuan-1",
        title="CLB tiếng Anh tuần 1",
        text="<b>CLB tiếng Anh</b> thứ năm này",
        buttons=tuple(Button(o, f"rsvp:{{occurrence}}:{i}") for i, o in enumerate(OPTIONS)),
        kind="club_notice",
        meta={"options": OPTIONS, "yes": 0, "session_at": when.isoformat()},
    )
    occurrence = await enqueue(world.db, notice, [chat])
    await send_all(ChannelSender(world.db, world.adapter, rate_per_s=0), world.db)
    await world.news(ward.group_a)
    return occurrence


async def test_staff_see_the_counts_and_yes_sayers_are_reminded(world: World, ward: Ward) -> None:
    stranger = await world.sandbox.create_user("Phụ huynh Minh")  # never wrote to loa
    await world.sandbox.add_member(ward.group_a, stranger)
    other = await world.person("Phụ huynh Hà")
    await world.sandbox.add_member(ward.group_a, other)
    occurrence = await club_notice(world, ward, timedelta(hours=30))
    await world.press(ward.group_a, ward.parent, f"rsvp:{occurrence}:0")
    await world.press(ward.group_a, stranger, f"rsvp:{occurrence}:0")
    await world.press(ward.group_a, other, f"rsvp:{occurrence}:1")

    [counts] = await world.say(ward.teacher_a, "/dangky")
    assert counts.startswith("Đăng ký tham gia (30 ngày qua)")
    assert "CLB tiếng Anh tuần 1" in counts and "tới 1 nhóm" in counts
    assert "• Con sẽ tham gia: 2 người\n• Chưa tham gia được: 1 người" in counts
    [none] = await world.say(ward.teacher_b, "/dangky")
    assert "Chưa có thông báo câu lạc bộ nào" in none, "another school's groups are not theirs"
    [refused] = await world.say(ward.parent, "/dangky")
    assert refused.startswith("Xin lỗi, vai trò của bạn chưa được phép")

    templates = Templates(TEMPLATES_DIR)
    assert await rsvp.remind(world.db, templates, utcnow()) == 0, "more than a day before"
    day_before = utcnow() + timedelta(hours=7)
    assert await rsvp.remind(world.db, templates, day_before) == 1
    assert await rsvp.remind(world.db, templates, day_before) == 1, "again: the same key"
    async with world.db.session() as session:
        sent_to = (
            await session.exec(
                select(Chat.platform_chat_id, Occurrence.text)
                .join(Delivery, col(Delivery.chat_id) == Chat.id)
                .join(Occurrence, col(Occurrence.id) == Delivery.occurrence_id)
                .where(Occurrence.key == f"rsvp:{occurrence}:reminder")
            )
        ).all()
    [(chat, reminder)] = sent_to
    assert chat == str(ward.parent), "once; not who said no, nor who never wrote to loa"
    assert reminder.startswith("<b>Nhắc lịch</b>: CLB tiếng Anh tuần 1")
    assert "Bạn đã đăng ký: “Con sẽ tham gia”" in reminder
    assert await rsvp.remind(world.db, templates, utcnow() + timedelta(hours=31)) == 0, "past"


def test_a_campaigns_rsvp_and_quiz_say_what_the_reminder_and_explanation_need() -> None:
    due = datetime(2026, 12, 3, 16, 30, tzinfo=VN)
    common: dict[str, Any] = {
        "audiences": ["parents"], "schedule": {"at": due}, "template": "posts/clb_tieng_anh.j2",
    }  # fmt: skip
    club = Post.model_validate(
        {**common, "id": "clb", "kind": "club_notice",
         "rsvp": {"options": ["Không", "Có"], "yes": 1, "session_after": 48}}
    )  # fmt: skip
    assert answer_meta(club, due) == {
        "options": ["Không", "Có"],
        "yes": 1,
        "session_at": "2026-12-05T09:30:00+00:00",
    }
    quiz = Post.model_validate(
        {**common, "id": "q", "kind": "quiz",
         "quiz": {"question": "Ai?", "options": ["A", "B"], "answer": 1, "explanation": "Vì B."}}
    )  # fmt: skip
    assert answer_meta(quiz, due) == {
        "answer": 1, "options": ["A", "B"], "question": "Ai?", "explanation": "Vì B."
    }  # fmt: skip
    with pytest.raises(ValidationError, match="yes 2 is out of range"):
        Post.model_validate({**common, "id": "x", "kind": "club_notice",
                             "rsvp": {"options": ["a", "b"], "yes": 2}})  # fmt: skip
