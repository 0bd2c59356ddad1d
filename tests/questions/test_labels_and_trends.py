"""Feedback wired end to end: what people write is labelled as it is stored (and rows stored
unlabelled by the catch-up), the trends read the labelled items: reports on one rumour through
the chat reach the official as one urgent alert, and a week of complaints as one weekly alert."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from bot.config import DEFAULT_CONTENT_DIR
from bot.services import labels
from bot.services.trends import alert_rises
from bot.storage.models import ActivityReport, FeedbackItem
from content.templates import Templates
from tests.chatworld import World
from tests.feedback.test_trends import delivered
from tests.questions.conftest import Ward, items

RUMOUR = [
    "Nghe nói có người lạ bắt cóc học sinh ở cổng trường",
    "nghe noi co ke bat coc hs o cong truong, that ko mn",
    "Chuyện bắt cóc học sinh ở cổng trường đang lan trên Zalo",
]


async def test_a_question_and_a_report_are_labelled_when_stored(world: World, ward: Ward) -> None:
    await world.say(ward.parent, "Cho em hỏi lịch họp phụ huynh là ngày nào ạ?")
    await world.say(ward.parent, "/baotinsai Trên mạng nói trường thu thêm tiền, sợ quá")
    question, report = await items(world)
    assert (question.kind, question.category, question.sentiment) == (
        "question",
        "question",
        "neutral",
    )
    assert question.classified_at is not None
    # A report is a misinformation report because its author said so, whatever its words.
    assert (report.kind, report.category) == ("misinformation", "misinformation")
    assert report.sentiment in ("neutral", "negative") and report.classified_at is not None


async def test_the_catch_up_labels_what_was_stored_without_labels(world: World) -> None:
    school = await world.unit("th-a")
    async with world.db.session() as session:
        session.add(FeedbackItem(kind="question", unit_id=school, text="Cảm ơn cô giáo nhiều ạ"))
        session.add(FeedbackItem(kind="question", unit_id=school, text=None))  # text dropped
        session.add(FeedbackItem(kind="misinformation", unit_id=school, reported_text="Nghỉ học"))
        await session.commit()
    assert await labels.catch_up(world.db) == 2
    assert await labels.catch_up(world.db) == 0
    thanks, dropped, report = await items(world)
    assert (thanks.category, thanks.sentiment) == ("thanks", "positive")
    assert dropped.classified_at is None
    assert report.category == "misinformation"


async def test_report_notes_are_caught_up_and_read_by_the_trends_with_the_items(
    world: World,
) -> None:
    school = await world.unit("th-b")
    sent = datetime.now(UTC) - timedelta(hours=1)
    async with world.db.session() as session:
        session.add(ActivityReport(unit_id=school, status="sent", sent_at=sent, notes=COMPLAINT))
        session.add(ActivityReport(unit_id=school, status="draft", notes="Chưa gửi"))
        session.add(FeedbackItem(kind="question", unit_id=school, text=QUESTION, created_at=sent))
        await session.commit()
    assert await labels.catch_up(world.db) == 2, "a sent report's notes and the question"
    read = await labels.source(world.db)(sent - timedelta(minutes=1), sent + timedelta(minutes=1))
    assert sorted((f[0], f[2], f[3], f[4]) for f in read) == [
        (school, "complaint", "negative", COMPLAINT),
        (school, "question", "neutral", QUESTION),
    ], "drafts are nobody's feedback yet"


async def test_three_reports_on_one_rumour_in_chat_send_the_official_one_burst_alert(
    world: World, ward: Ward
) -> None:
    for text in RUMOUR:
        rumour = await world.sandbox.write(ward.group_a, ward.parent, text)
        await world.sandbox.write(ward.group_a, ward.parent, "báo tin sai", rumour)
        await world.pump()
    flags = await world.news(ward.official)
    assert len(flags) == 3 and all(f.startswith("Báo tin sai số") for f in flags)
    [alert] = await delivered(world, ward.official)
    assert alert.startswith("Khẩn: 3 báo tin sai cùng một chủ đề")
    assert "Trường Tiểu học A" in alert or "1A" in alert
    # A fourth report on the same rumour is the same burst: no second alert.
    rumour = await world.sandbox.write(ward.group_a, ward.parent, RUMOUR[0] + " nữa")
    await world.sandbox.write(ward.group_a, ward.parent, "báo tin sai", rumour)
    await world.pump()
    assert len(await world.news(ward.official)) == 1  # its flag only
    assert await delivered(world, ward.official) == []
    assert await delivered(world, ward.teacher_a) == []  # trends are for officials


NOW = datetime(2026, 11, 30, 0, 30, tzinfo=UTC)  # Monday 07:30 in Vietnam
COMPLAINT = "Bếp ăn bán trú của trường quá bẩn, con tôi bị đau bụng, rất bức xúc"
QUESTION = "Cho em hỏi lịch họp phụ huynh là ngày nào ạ?"


async def test_a_week_of_complaints_sends_one_weekly_alert(world: World, ward: Ward) -> None:
    school = await world.unit("th-a")

    def spread(weeks_ago: int, texts: list[str]) -> list[FeedbackItem]:
        end = NOW - timedelta(days=7 * weeks_ago, minutes=30)
        return [
            FeedbackItem(
                kind="question",
                unit_id=school,
                text=text,
                created_at=end - timedelta(days=7) * i / len(texts),
            )
            for i, text in enumerate(texts)
        ]

    seeded = [x for w in range(1, 5) for x in spread(w, [COMPLAINT] + [QUESTION] * 9)]
    seeded += spread(0, [COMPLAINT] * 6 + [QUESTION] * 4)
    async with world.db.session() as session:
        session.add_all(seeded)
        await session.commit()
    assert await labels.catch_up(world.db) == 50  # stored unlabelled: the catch-up labels them

    templates = Templates(DEFAULT_CONTENT_DIR / "templates")
    source = labels.source(world.db)
    assert await alert_rises(world.db, templates, source, NOW) == 1
    [alert] = await delivered(world, ward.official)
    assert "Trường Tiểu học A" in alert and "phản ánh, phàn nàn" in alert
    assert "60%" in alert and "10%" in alert  # 6 of 10 this week, against 4 of 40
    assert await alert_rises(world.db, templates, source, NOW) == 1
    assert await delivered(world, ward.official) == []  # the same week is not told twice
