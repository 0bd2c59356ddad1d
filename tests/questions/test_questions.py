"""Questions and suggestions: from a parent (in private, or in a group replying to loa or
naming it) to the staff of that school, answered back to the asker; marked handled with a
reason; reminded after 48 h and shown to officials after 96 h."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import update
from sqlmodel import col, select

from bot.services import questions
from bot.services.permissions import Action, scope
from bot.services.retention import purge_free_text
from bot.storage.models import Chat, Delivery, FeedbackItem, Occurrence, table_of, utcnow
from content.templates import Templates
from tests.audiences.test_privacy import traces
from tests.chatworld import World
from tests.handlers.fakes import TEMPLATES_DIR
from tests.questions.conftest import Ward, items, loa_posts


async def test_a_private_question_is_answered_back_in_private(world: World, ward: Ward) -> None:
    [sent] = await world.say(ward.parent, "không hiểu")
    assert sent.startswith("Loa đã chuyển câu hỏi, góp ý của bạn tới Trường Tiểu học A")
    [asked] = await world.news(ward.teacher_a)
    assert "Câu hỏi, góp ý số 1" in asked and "Phụ huynh Lan" in asked
    assert "không hiểu" in asked and "nhắn riêng cho loa" in asked
    assert [label for label, _ in await world.last_buttons(ward.teacher_a)] == [
        "Trả lời",
        "Đã xử lý",
    ]
    assert await world.news(ward.teacher_b) == [], "another school's teacher is not told"
    assert await world.news(ward.official) == [], "officials only see overdue ones"

    assert await world.press(ward.teacher_a, ward.teacher_a, "q:1:a") is None
    [prompt] = await world.news(ward.teacher_a)
    assert prompt.startswith("Gõ câu trả lời cho câu hỏi số 1")
    [too_short] = await world.say(ward.teacher_a, "x")
    assert too_short.startswith("Tin nhắn cần từ 2 đến 2.000 ký tự")
    [done] = await world.say(ward.teacher_a, "Thứ bảy này họp lúc 8 giờ ạ.")
    assert done == "Đã gửi câu trả lời cho người hỏi (câu hỏi số 1)."
    [answer] = await world.news(ward.parent)
    assert answer.startswith("Trả lời câu hỏi của bạn (từ Cô Hoa)")
    assert "Bạn hỏi: không hiểu" in answer and answer.endswith("Thứ bảy này họp lúc 8 giờ ạ.")
    [item] = await items(world)
    assert (item.status, item.answer, item.answered_by) == (
        "answered",
        "Thứ bảy này họp lúc 8 giờ ạ.",
        await world.person_id(ward.teacher_a),
    )
    toast = await world.forge_press(ward.teacher_a, ward.teacher_a, "q:1:h")
    assert toast == "Câu hỏi này đã được trả lời hoặc xử lý rồi."


async def test_a_reply_to_loas_post_in_a_group_is_answered_in_the_group(
    world: World, ward: Ward
) -> None:
    post = await loa_posts(world, ward.group_a)
    asked = await world.sandbox.write(ward.group_a, ward.parent, "Họp ở phòng nào ạ?", post)
    await world.pump()
    [sent] = await world.news(ward.group_a)
    assert sent.startswith("Loa đã chuyển câu hỏi")
    [to_teacher] = await world.news(ward.teacher_a)
    assert "trong nhóm «Phụ huynh 1A»" in to_teacher and "Họp ở phòng nào ạ?" in to_teacher
    await world.press(ward.teacher_a, ward.teacher_a, "q:1:a")
    await world.say(ward.teacher_a, "Phòng 203 ạ")
    messages = await world.bot_messages(ward.group_a)
    answer = messages[-1]
    assert answer["text"].startswith("Trả lời câu hỏi của bạn (từ Cô Hoa)")
    assert answer["text"].endswith("Phòng 203 ạ") and "Bạn hỏi" not in answer["text"]
    assert answer["reply_to_message_id"] == asked, "a reply to the parent's own message"


async def test_naming_loa_in_a_group_asks_and_other_talk_is_ignored(
    world: World, ward: Ward
) -> None:
    await world.sandbox.write(ward.group_a, ward.parent, "Chào cả nhà, mai con nghỉ ốm")
    await world.pump()
    assert await world.news(ward.group_a) == [] and await items(world) == []
    name = world.adapter.username
    await world.sandbox.write(ward.group_a, ward.parent, f"@{name} cho hỏi học phí tháng 12?")
    await world.pump()
    [item] = await items(world)
    assert item.text == "cho hỏi học phí tháng 12?", "loa's @name is left out"
    assert item.unit_id == await world.unit("th-a"), "the class's school answers"


async def test_a_teacher_answers_only_their_schools_questions(world: World, ward: Ward) -> None:
    await world.say(ward.parent, "Xin hỏi lịch nghỉ Tết")
    toast = await world.forge_press(ward.teacher_b, ward.teacher_b, "q:1:a")
    assert toast == "Câu hỏi này thuộc đơn vị khác: bạn không trả lời được."
    toast = await world.forge_press(ward.parent, ward.parent, "q:1:a")
    assert toast == "Câu hỏi này thuộc đơn vị khác: bạn không trả lời được."
    # An official of the ward may answer any school's.
    assert await world.forge_press(ward.official, ward.official, "q:1:a") is None
    parent, teacher_a, teacher_b = [
        await world.person_id(u) for u in (ward.parent, ward.teacher_a, ward.teacher_b)
    ]
    assert teacher_b is not None
    async with world.db.session() as session:
        parent_scope = await scope(session, parent, Action.ANSWER_QUESTION)
        a_scope = await scope(session, teacher_a, Action.ANSWER_QUESTION)
        b_scope = await scope(session, teacher_b, Action.ANSWER_QUESTION)
        assert await questions.list_for(session, parent_scope) == []
        assert await questions.list_for(session, b_scope) == []
        assert [i.id for i in await questions.list_for(session, a_scope)] == [1]
        # The service refuses another school's staff too, not only the button.
        assert await questions.answer(session, 1, teacher_b, "Không", b_scope) is None


async def test_marked_handled_with_a_reason(world: World, ward: Ward) -> None:
    await world.say(ward.parent, "Góp ý: nên có mái che ở cổng trường")
    await world.news(ward.teacher_a)
    await world.press(ward.teacher_a, ward.teacher_a, "q:1:h")
    [prompt] = await world.news(ward.teacher_a)
    assert prompt.startswith("Gõ ngắn gọn lý do câu hỏi số 1 đã được xử lý")
    [done] = await world.say(ward.teacher_a, "Đã chuyển ban giám hiệu")
    assert done == "Đã ghi nhận câu hỏi số 1 là đã xử lý."
    [item] = await items(world)
    assert (item.status, item.answer) == ("handled", "Đã chuyển ban giám hiệu")
    assert await world.news(ward.parent) == [], "no answer goes to the asker"


async def test_someone_loa_cannot_place_is_told_how_to_ask(world: World) -> None:
    stranger = await world.person("Người lạ")
    [told] = await world.say(stranger, "cho hỏi")
    assert told.startswith("Loa chưa biết bạn thuộc trường hay lớp nào")
    assert await items(world) == []


async def test_a_private_chat_bound_to_a_class_places_the_question(
    world: World, ward: Ward
) -> None:
    """A Zalo OA follower's own chat is bound to a class as a group is: a question there goes
    to that school before they ever answered a post (it used to be refused)."""
    follower = await world.person("Phụ huynh theo dõi OA")
    async with world.db.session() as session:
        session.add(
            Chat(platform="telegram", platform_chat_id=str(follower), type="private",
                 unit_id=await world.unit("th-a-1a"), audience="parents")
        )  # fmt: skip
        await session.commit()
    [sent] = await world.say(follower, "Bao giờ họp phụ huynh ạ?")
    assert sent.startswith("Loa đã chuyển câu hỏi, góp ý của bạn tới Trường Tiểu học A"), sent
    [asked] = await world.news(ward.teacher_a)
    assert "Bao giờ họp phụ huynh ạ?" in asked


async def test_an_unbound_group_cannot_take_a_question(world: World, ward: Ward) -> None:
    group = await world.group("Nhóm mới", [ward.parent])
    await world.add_bot(group, ward.parent)
    post = await loa_posts(world, group)
    await world.sandbox.write(group, ward.parent, "Cho hỏi ạ", post)
    await world.pump()
    [told] = await world.news(group)
    assert told.startswith("Nhóm này chưa được gắn với trường hoặc lớp nào")


async def test_overdue_questions_remind_the_school_then_reach_officials(
    world: World, ward: Ward
) -> None:
    await world.say(ward.parent, "Bao giờ có kết quả học kỳ?")
    templates = Templates(TEMPLATES_DIR)
    now = utcnow()
    assert await questions.escalate(world.db, templates, now) == {"reminded": 0, "escalated": 0}
    hours = timedelta(hours=1)
    for later, expected in (
        (49 * hours, {"reminded": 1, "escalated": 0}),
        (50 * hours, {"reminded": 0, "escalated": 0}),  # once
        (97 * hours, {"reminded": 0, "escalated": 1}),
        (98 * hours, {"reminded": 0, "escalated": 0}),
    ):
        assert await questions.escalate(world.db, templates, now + later) == expected
    school_a = await world.unit("th-a")
    async with world.db.session() as session:
        rows = (
            await session.exec(
                select(Occurrence.key, Chat.platform_chat_id, Occurrence.text)
                .join(Delivery, col(Delivery.occurrence_id) == Occurrence.id)
                .join(Chat, col(Chat.id) == Delivery.chat_id)
                .order_by(col(Occurrence.id))
            )
        ).all()
        assert [(key, chat) for key, chat, _ in rows] == [
            ("question:1:reminded", str(ward.teacher_a)),
            ("question:1:escalated", str(ward.official)),
        ]
        assert "quá 2 ngày" in rows[0][2] and "quá 4 ngày" in rows[1][2]
        overdue = await questions.overdue(session, {school_a}, now + 97 * hours)
        assert [i.id for i in overdue] == [1]
        # An answered question is never reminded.
        items_table = table_of(FeedbackItem)
        await session.exec(update(items_table).values(status="answered", reminded_at=None))
        await session.commit()
    assert await questions.escalate(world.db, templates, now + 200 * hours) == {
        "reminded": 0,
        "escalated": 0,
    }


async def test_erasure_takes_the_askers_words_and_keeps_that_it_was_answered(
    world: World, ward: Ward
) -> None:
    await world.say(ward.parent, "Con tôi tên Bé Na có được miễn học phí không?")
    [me] = await world.say(ward.parent, "/toi")
    assert "Câu hỏi, góp ý, báo tin sai bạn đã gửi (kèm nội dung): 1" in me
    await world.press(ward.teacher_a, ward.teacher_a, "q:1:a")
    await world.say(ward.teacher_a, "Có, nộp đơn tại văn phòng")
    await world.say(ward.parent, "/xoadulieu")
    await world.press(ward.parent, ward.parent, "erase:yes")
    [item] = await items(world)
    assert (item.person_id, item.text, item.status) == (None, None, "answered")
    assert await traces(world, ward.parent, "Phụ huynh Lan") == []
    assert await traces(world, ward.parent, "Bé Na") == []


async def test_retention_drops_closed_questions_words_only(world: World, ward: Ward) -> None:
    await world.say(ward.parent, "Câu hỏi một")
    await world.say(ward.parent, "Câu hỏi hai")
    await world.press(ward.teacher_a, ward.teacher_a, "q:2:a")
    await world.say(ward.teacher_a, "Trả lời hai")
    later = utcnow() + timedelta(days=400)
    assert await purge_free_text(world.db, timedelta(days=365), later) == 1
    first, second = await items(world)
    assert first.text == "Câu hỏi một", "an open question keeps its words until it is closed"
    assert (second.text, second.answer, second.status) == (None, None, "answered")
