"""Quiz and RSVP buttons: a quiz counts the first answer and tells the right one; an RSVP may be
changed; a tap that matches no question of the post is answered politely and stored nowhere."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from sqlmodel import col, func, select

from bot.storage.db import Database
from bot.storage.models import Feedback, Occurrence, Person
from tests.handlers.fakes import Harness, deliver_post, message, tap, templates

OPTIONS = ["Bộ Chính trị", "Chính phủ", "UBND tỉnh"]
CLUB = ["Con sẽ tham gia", "Chưa tham gia được"]
UNKNOWN = (
    "Xin lỗi, không tìm thấy câu hỏi hoặc lựa chọn này. Có thể tin đã được gỡ hoặc không còn "
    "nhận câu trả lời."
)


async def _post(db: Database, key: str, kind: str, meta: dict[str, Any]) -> int:
    async with db.session() as session:
        occurrence = Occurrence(
            key=key, title=key, text="<b>Câu hỏi</b>", due_at=datetime.now(UTC), kind=kind,
            meta=meta,
        )  # fmt: skip
        session.add(occurrence)
        await session.commit()
        assert occurrence.id is not None
    await deliver_post(db, occurrence.id)
    return occurrence.id


async def quiz_post(db: Database) -> int:
    return await _post(db, "quiz", "quiz", {"answer": 0, "options": OPTIONS})


async def club_post(db: Database) -> int:
    return await _post(db, "club", "club_notice", {"options": CLUB})


async def feedback(db: Database) -> list[tuple[str, str | None, str]]:
    """(kind, value, person's platform id) of every answer."""
    async with db.session() as session:
        query = (
            select(Feedback.kind, Feedback.value, Person.platform_user_id)
            .join(Person, col(Person.id) == Feedback.person_id)
            .order_by(col(Feedback.id))
        )
        return [(kind, value, uid) for kind, value, uid in (await session.exec(query)).all()]


async def test_a_quiz_counts_the_first_answer_and_tells_the_right_one(any_db: Database) -> None:
    post = await quiz_post(any_db)
    bot = Harness(any_db)

    await bot.deliver(tap(f"quiz:{post}:1", user_id=1, name="Lan"))  # wrong
    await bot.deliver(tap(f"quiz:{post}:0", user_id=1, name="Lan"))  # right, but too late
    await bot.deliver(tap(f"quiz:{post}:0", user_id=2, name="Minh"))  # right

    assert [text for _, text in bot.platform.answers] == [
        "Chưa đúng rồi. Đáp án đúng là: Bộ Chính trị. Cảm ơn Lan đã tham gia trả lời.",
        "Bạn đã trả lời câu hỏi này rồi, chỉ lần trả lời đầu tiên được ghi nhận. "
        "Đáp án đúng là: Bộ Chính trị.",
        "Chính xác! Đáp án đúng là: Bộ Chính trị. Cảm ơn Minh đã trả lời.",
    ]
    assert await feedback(any_db) == [("quiz", "1", "1"), ("quiz", "0", "2")]
    async with any_db.session() as session:
        chat_ids = (await session.exec(select(Feedback.chat_id))).all()
    assert None not in chat_ids  # tied to the group it was answered in
    assert bot.platform.sent == []  # toasts only: nothing posted into the group


async def test_an_rsvp_can_be_changed(any_db: Database) -> None:
    post = await club_post(any_db)
    bot = Harness(any_db)

    await bot.deliver(tap(f"rsvp:{post}:0", name="Lan"))
    await bot.deliver(tap(f"rsvp:{post}:1", name="Lan"))
    await bot.deliver(tap(f"rsvp:{post}:1", name="Lan"))

    assert [text for _, text in bot.platform.answers] == [
        "Cảm ơn Lan, đã ghi nhận: “Con sẽ tham gia”.",
        "Đã cập nhật câu trả lời của Lan: “Chưa tham gia được”.",
        "Cảm ơn Lan, đã ghi nhận: “Chưa tham gia được”.",
    ]
    assert await feedback(any_db) == [("rsvp", "1", "7")]


@pytest.mark.parametrize(
    "data",
    [
        "quiz:{quiz}:3",  # out of range
        "rsvp:{club}:2",
        "quiz:{club}:0",  # the post asks no quiz
        "rsvp:{quiz}:0",  # a quiz is not an RSVP
        "quiz:999999:0",  # no such post
        "rsvp:999999:0",
        "quiz:{quiz}",  # malformed
        "quiz:{quiz}:-1",
        "rsvp:abc:0",
        "quiz:{ack}:0",  # a post with no question at all
    ],
)
async def test_a_tap_matching_no_question_is_answered_politely(db: Database, data: str) -> None:
    ids = {
        "quiz": await quiz_post(db),
        "club": await club_post(db),
        "ack": await _post(db, "ack", "announcement", {}),
    }
    bot = Harness(db)

    await bot.deliver(tap(data.format(**ids)))

    assert [text for _, text in bot.platform.answers] == [UNKNOWN]
    assert await feedback(db) == []
    async with db.session() as session:
        assert (await session.exec(select(func.count()).select_from(Person))).one() == 0


@pytest.mark.parametrize(
    ("name", "values"),
    [
        ("quiz_right", {"right": "x" * 64}),
        ("quiz_wrong", {"right": "x" * 64}),
        ("quiz_again", {"right": "x" * 64}),
        ("rsvp_thanks", {"option": "x" * 64, "changed": False}),
        ("rsvp_thanks", {"option": "x" * 64, "changed": True}),
        ("answer_unknown", {}),
    ],
)
def test_answers_fit_a_toast_and_speak_vietnamese(name: str, values: dict[str, Any]) -> None:
    """Telegram refuses a button answer over 200 characters: the longest label (64) and a long
    name must still fit."""
    text = templates().render_plain(name, name="Nguyễn " * 20, **values)
    assert len(text.encode("utf-16-le")) // 2 <= 200, text
    assert any(c in text for c in "ăâđêôơưáàảãạ")
    assert "{{" not in text
    if "changed" in values:
        assert ("cập nhật" in text) == values["changed"]


async def test_a_wrong_answer_gets_the_explanation_in_private_where_there_is_one(
    any_db: Database,
) -> None:
    meta = {
        "answer": 0,
        "options": OPTIONS,
        "question": "Ai ban hành Nghị quyết 71?",
        "explanation": "Nghị quyết 71-NQ/TW do Bộ Chính trị ban hành ngày 22/8/2025.",
    }
    post = await _post(any_db, "quiz-explained", "quiz", meta)
    bot = Harness(any_db)
    await bot.deliver(message("/start", user_id=1, name="Lan"))  # Lan has a private chat
    bot.platform.sent.clear()
    await bot.deliver(tap(f"quiz:{post}:2", user_id=1, name="Lan"))  # wrong
    await bot.deliver(tap(f"quiz:{post}:1", user_id=2, name="Minh"))  # wrong, no private chat
    await bot.deliver(tap(f"quiz:{post}:0", user_id=3, name="Hà"))  # right
    await bot.deliver(tap(f"quiz:{post}:1", user_id=1, name="Lan"))  # again: counted once
    [sent] = bot.platform.sent
    assert sent.chat_id == "1"
    assert sent.text.startswith("<b>Giải thích câu hỏi nhanh</b>\nCâu hỏi: Ai ban hành")
    assert "Đáp án đúng: Bộ Chính trị" in sent.text
    assert sent.text.endswith("do Bộ Chính trị ban hành ngày 22/8/2025.")
