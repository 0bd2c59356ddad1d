"""Feedback trends: the weekly rise rule, misinformation bursts, excerpts without names or phone
numbers, and the alerts reaching officials' private chats through the outbox and the sandbox."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterable
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.config import DEFAULT_CONTENT_DIR
from bot.delivery.sender import ChannelSender
from bot.services.trends import (
    Feedback,
    alert_bursts,
    alert_rises,
    bursts,
    keywords,
    rises,
    schedule,
)
from bot.storage.db import Database
from content.templates import Templates
from tests.chatworld import World, chat_world

NOW = datetime(2026, 11, 30, 0, 30, tzinfo=UTC)  # Monday 07:30 in Vietnam


def week(
    unit: int, negative: int, other: int, weeks_ago: int = 0, category: str = "complaint"
) -> list[Feedback]:
    """`negative` negative and `other` neutral items of `unit`, spread over one week."""
    end = NOW - timedelta(days=7 * weeks_ago)
    items = []
    count = negative + other
    for i in range(count):
        at = end - timedelta(minutes=30) - timedelta(days=7) * i / count
        if i < negative:
            items.append(Feedback(unit, at, category, "negative", f"Phản ánh số {i} về bán trú"))
        else:
            items.append(Feedback(unit, at, "question", "neutral", f"Câu hỏi số {i}"))
    return items


def history(unit: int, negative: int, other: int) -> list[Feedback]:
    return [x for w in range(1, 5) for x in week(unit, negative, other, weeks_ago=w)]


def test_a_sharp_rise_in_negative_share_is_found_with_its_category_and_examples() -> None:
    items = history(1, 1, 9) + week(1, 6, 4) + week(1, 1, 1, category="misinformation")
    [rise] = rises(items, NOW)
    assert rise.unit_id == 1 and rise.volume == 12 and rise.negatives == 7
    assert rise.baseline_share == pytest.approx(0.1)
    assert rise.category == "complaint"
    assert rise.examples == (
        "Phản ánh số 0 về bán trú",
        "Phản ánh số 1 về bán trú",
        "Phản ánh số 2 về bán trú",
    )


def test_a_rise_in_the_number_of_negative_items_counts_too() -> None:
    # The share stays low (20 %) but negatives go from 1 to 6 a week.
    [rise] = rises(history(2, 1, 19) + week(2, 6, 24), NOW)
    assert rise.negatives == 6 and rise.share == pytest.approx(0.2)


@pytest.mark.parametrize(
    "items",
    [
        history(3, 5, 5) + week(3, 5, 5),  # as negative as always
        history(3, 0, 10) + week(3, 3, 1),  # too few items to say anything
        history(3, 1, 9) + week(3, 2, 10),  # a little more negative, not sharply
        week(3, 6, 4, weeks_ago=1),  # nothing this week
    ],
)
def test_no_alert_without_a_sharp_rise(items: list[Feedback]) -> None:
    assert rises(items, NOW) == []


def test_plain_tuples_work_as_input() -> None:
    items = [
        (x.unit_id, x.created_at, x.category, x.sentiment, x.text)
        for x in history(1, 1, 9) + week(1, 6, 4)
    ]
    assert [r.unit_id for r in rises(items, NOW)] == [1]


RUMOUR = [
    "Nghe nói có người lạ bắt cóc học sinh ở cổng trường Tiểu học A",
    "nghe noi co ke bat coc hs o cong truong, that ko mn",
    "Báo tin sai: chuyện bắt cóc học sinh ở cổng trường đang lan trên Zalo",
]


def reports(texts: Iterable[str], every: timedelta, unit: int = 1) -> list[Feedback]:
    return [
        Feedback(unit, NOW - every * i, "misinformation", "negative", text)
        for i, text in enumerate(texts)
    ]


def test_reports_on_one_topic_within_hours_are_a_burst() -> None:
    others = [
        Feedback(2, NOW, "misinformation", "neutral", "Công văn cho nghỉ học xem bóng đá là giả"),
        Feedback(2, NOW, "complaint", "negative", "Bắt cóc học sinh ở cổng trường, sợ quá"),
    ]
    [burst] = bursts(reports(RUMOUR, timedelta(minutes=40)) + others, NOW)
    assert burst.reports == 3 and burst.unit_ids == (1,)
    assert {"bat", "coc", "cong"} <= set(burst.keywords)
    assert len(burst.examples) == 3


def test_two_rumours_at_once_make_two_bursts_not_one() -> None:
    leave = [
        "Có công văn cho học sinh nghỉ học hết tháng, mọi người chuyển cho nhau",
        "Văn bản cho nghỉ học đang chia sẻ trên Zalo có phải của Sở không ạ?",
        "Ảnh công văn nghỉ học là cắt ghép năm cũ, đừng chia sẻ",
    ]
    mixed = reports(RUMOUR, timedelta(minutes=20)) + reports(leave, timedelta(minutes=25), unit=2)
    found = sorted(bursts(mixed, NOW), key=lambda b: b.unit_ids)
    assert [(b.unit_ids, b.reports) for b in found] == [((1,), 3), ((2,), 3)]
    assert {"bat", "coc"} <= set(found[0].keywords)
    assert {"nghi", "van"} <= set(found[1].keywords)


def test_reports_far_apart_or_on_different_topics_are_no_burst() -> None:
    assert bursts(reports(RUMOUR, timedelta(hours=2)), NOW) == []
    different = [
        "Nghe nói có người lạ bắt cóc học sinh",
        "Công văn cho học sinh nghỉ học xem bóng đá là giả",
        "Trên TikTok nói cấm trẻ dưới 12 tuổi dùng điện thoại",
    ]
    assert bursts(reports(different, timedelta(minutes=10)), NOW) == []


@pytest.fixture
async def world(any_db: Database) -> AsyncIterator[World]:
    async with chat_world(any_db) as w:
        yield w


async def delivered(world: World, chat: int) -> list[str]:
    """The bot's new messages in `chat` once the outbox has sent what is due."""
    stop = asyncio.Event()
    sender = ChannelSender(world.db, world.adapter, rate_per_s=0)
    task = asyncio.create_task(sender.run(stop))
    try:
        for _ in range(50):
            await asyncio.sleep(0.05)
            if news := await world.news(chat):
                return news
        return []
    finally:
        stop.set()
        await asyncio.wait_for(task, 10)


async def test_officials_get_one_weekly_alert_naming_unit_category_and_examples(
    world: World,
) -> None:
    official = await world.person("Cán bộ phường")
    await world.grant(official, "official", "phuong-a")
    principal = await world.person("Hiệu trưởng A")
    await world.grant(principal, "school_admin", "th-a")
    await world.news(official), await world.news(principal)
    school = await world.unit("th-a")
    items = history(school, 1, 9) + week(school, 6, 4)
    items.append(
        Feedback(school, NOW - timedelta(hours=1), "complaint", "negative", "Cô Yên gọi 0912345678")
    )

    async def source(start: datetime, end: datetime) -> list[Feedback]:
        return [i for i in items if start <= i.created_at < end]

    templates = Templates(DEFAULT_CONTENT_DIR / "templates")
    assert await alert_rises(world.db, templates, source, NOW) == 1
    [alert] = await delivered(world, official)
    assert "Trường Tiểu học A" in alert and "phản ánh, phàn nàn" in alert
    assert "64%" in alert and "10%" in alert  # 7 of 11, against 4 of 40
    assert "0912345678" not in alert and "Yên" not in alert
    assert await delivered(world, principal) == []  # a school's staff is not told

    assert await alert_rises(world.db, templates, source, NOW) == 1  # a second run ...
    assert await delivered(world, official) == []  # ... sends nothing twice


async def test_a_burst_alerts_officials_at_once_and_only_once(world: World) -> None:
    official = await world.person("Cán bộ phường")
    await world.grant(official, "official", "phuong-a")
    await world.news(official)
    school = await world.unit("th-b")
    items = reports(RUMOUR, timedelta(minutes=30), unit=school)

    async def source(start: datetime, end: datetime) -> list[Feedback]:
        return [i for i in items if start <= i.created_at <= end]

    templates = Templates(DEFAULT_CONTENT_DIR / "templates")
    assert await alert_bursts(world.db, templates, source, NOW) == 1
    [alert] = await delivered(world, official)
    assert alert.startswith("Khẩn: 3 báo tin sai cùng một chủ đề")
    assert "Trường Tiểu học B" in alert and "bắt cóc" in alert

    items.append(
        Feedback(school, NOW, "misinformation", "negative", "Lại có tin bắt cóc ở cổng trường")
    )
    await alert_bursts(world.db, templates, source, NOW + timedelta(minutes=10))
    assert await delivered(world, official) == []  # the same burst, grown: no second alert


def test_the_jobs_are_scheduled_weekly_and_every_ten_minutes() -> None:
    jobs: dict[str, dict[str, int | str]] = {}

    class Recorder:
        def every(self, job_id: str, job: object, **cron: int | str) -> None:
            jobs[job_id] = cron

    async def nothing(start: datetime, end: datetime) -> list[Feedback]:
        return []

    schedule(Recorder(), None, None, nothing)  # type: ignore[arg-type]
    assert jobs == {
        "trends:weekly": {"day_of_week": "mon", "hour": 7, "minute": 30},
        "trends:bursts": {"minute": "*/10"},
    }


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=2000))
def test_keywords_of_any_text_are_folded_words(text: str) -> None:
    assert all(w.isascii() and w.isalnum() for w in keywords(text))
