"""A campaign's quiz and RSVP posts, end to end: scheduled from content files, fired, sent into a
sandbox group, tapped by a parent, answered and stored."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml
from sqlmodel import col, select

from bot.config import DEFAULT_CONTENT_DIR
from bot.delivery.sender import ChannelSender
from bot.dispatch import Dispatcher
from bot.domain import Platform
from bot.inbox import Inbox
from bot.platforms.telegram import TelegramAdapter
from bot.sandbox import Sandbox
from bot.sandbox.client import SandboxClient
from bot.services.campaigns import schedule_all
from bot.storage.db import Database
from bot.storage.models import Chat, Feedback, Unit, utcnow
from content.campaign.schema import VN
from content.templates import Templates
from handlers import build_router
from scheduler.runner import Scheduler

TOKEN = "1000000008:loa-e2e-answers-xyz"
BOT_ID = 1000000008


def campaign_folder(folder: Path) -> Path:
    """The shipped templates, and a campaign with a quiz and an RSVP due in a second."""
    (folder / "campaigns").mkdir(parents=True)
    (folder / "templates").symlink_to(DEFAULT_CONTENT_DIR / "templates", target_is_directory=True)
    due = (utcnow() + timedelta(seconds=1)).astimezone(VN).replace(microsecond=0)
    common: dict[str, Any] = {"audiences": ["parents"], "schedule": {"at": due}, "valid_for": 24}
    doc = {
        "id": "thu",
        "plan": "viet_yen_nq71",
        "title": "Đợt thử",
        "posts": [
            {
                **common, "id": "cau_hoi", "kind": "quiz", "template": "posts/cau_hoi_nhanh.j2",
                "variables": {"topic": "NQ71", "ward_name": "UBND phường Thử"},
                "quiz": {"question": "Ai ban hành?", "options": ["Bộ Chính trị", "Chính phủ"],
                         "answer": 0},
            },
            {
                **common, "id": "clb", "kind": "club_notice", "template": "posts/clb_tieng_anh.j2",
                "variables": {"school": "Trường Thử", "time": "16:30", "place": "tại trường"},
                "rsvp": {"options": ["Con sẽ tham gia", "Chưa tham gia được"]},
            },
        ],
    }  # fmt: skip
    text = yaml.safe_dump(doc, allow_unicode=True, sort_keys=False)
    (folder / "campaigns" / "thu.yaml").write_text(text, encoding="utf-8")
    return folder


@pytest.fixture
async def sandbox() -> AsyncIterator[tuple[str, TelegramAdapter]]:
    box = Sandbox()
    url = await box.start("127.0.0.1", 0)
    adapter = TelegramAdapter(TOKEN, url, timeout=2.0)
    await adapter.start()
    yield url, adapter
    await adapter.stop()
    await box.stop()


async def test_a_parent_answers_a_scheduled_quiz_and_rsvp(
    db: Database, tmp_path: Path, sandbox: tuple[str, TelegramAdapter]
) -> None:
    url, adapter = sandbox
    folder = campaign_folder(tmp_path / "content")
    templates = Templates(folder / "templates")
    async with SandboxClient(url) as people:
        parent = await people.create_user("Trần Thị Bình")
        group = await people.create_chat("Phụ huynh lớp 1A", members=[parent, BOT_ID])
        async with db.session() as s:
            unit = Unit(code="truong-thu", name="Trường Thử", kind="school")
            s.add(unit)
            await s.flush()
            s.add(
                Chat(platform="telegram", platform_chat_id=str(group), type="group",
                     unit_id=unit.id, audience="parents", member_count=1)
            )  # fmt: skip
            await s.commit()

        stop = asyncio.Event()
        inbox = Inbox(
            db,
            {Platform.TELEGRAM: adapter},
            Dispatcher(build_router(), db=db, templates=templates),
            poll_timeout=1,
        )
        sender = ChannelSender(db, adapter, rate_per_s=0)
        scheduler = Scheduler(db, on_enqueued=sender.wake, lease_renew_s=0.1)
        tasks = [
            asyncio.create_task(inbox.poll_forever(Platform.TELEGRAM, stop)),
            asyncio.create_task(inbox.run(stop)),
            asyncio.create_task(sender.run(stop)),
        ]
        scheduler.start()
        try:
            await schedule_all(db, scheduler, folder, templates, utcnow())
            quiz, club = await _posts(people, group, count=2)

            def data(post: dict[str, Any], i: int) -> str:
                return str(post["reply_markup"]["inline_keyboard"][i][0]["callback_data"])

            for post, i in ((quiz, 1), (quiz, 0), (club, 0), (club, 1)):
                await people.press(group, parent, post["message_id"], data(post, i))
            answers = await _toasts(people, count=4)
        finally:
            stop.set()
            await scheduler.shutdown()
            await asyncio.wait_for(asyncio.gather(*tasks), 10)

    assert answers == [
        "Chưa đúng rồi. Đáp án đúng là: Bộ Chính trị. Cảm ơn Trần Thị Bình đã tham gia trả lời.",
        "Bạn đã trả lời câu hỏi này rồi, chỉ lần trả lời đầu tiên được ghi nhận. "
        "Đáp án đúng là: Bộ Chính trị.",
        "Cảm ơn Trần Thị Bình, đã ghi nhận: “Con sẽ tham gia”.",
        "Đã cập nhật câu trả lời của Trần Thị Bình: “Chưa tham gia được”.",
    ]
    async with db.session() as s:
        stored = await s.exec(select(Feedback.kind, Feedback.value).order_by(col(Feedback.id)))
        assert [tuple(row) for row in stored.all()] == [("quiz", "1"), ("rsvp", "1")]


async def _posts(people: SandboxClient, group: int, count: int) -> list[dict[str, Any]]:
    """The bot's posts in the group, quiz first (by its question), once `count` arrived."""
    async with asyncio.timeout(15):
        while True:
            posts = [m for m in await people.messages(group) if m["sender"]["id"] == BOT_ID]
            if len(posts) >= count:
                return sorted(posts, key=lambda m: "Bộ Chính trị" not in str(m["reply_markup"]))
            await asyncio.sleep(0.05)


async def _toasts(people: SandboxClient, count: int) -> list[str]:
    async with asyncio.timeout(15):
        while True:
            calls = await people.log(method="answerCallbackQuery")
            texts = [str(c["params"].get("text", "")) for c in calls if c["status"] == 200]
            if len(texts) >= count:
                return texts
            await asyncio.sleep(0.05)
