"""/thongbao: composed by one official, approved by another, only then sent; its progress
message is edited while it goes out."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass, replace
from datetime import timedelta
from typing import Any

import pytest
from sqlmodel import func, select

from bot.config import DEFAULT_CONTENT_DIR, QuietHours
from bot.delivery.sender import ChannelSender
from bot.services.announcements import ProgressReporter, decide
from bot.storage.models import (
    Announcement,
    Conversation,
    Delivery,
    Feedback,
    Occurrence,
    utcnow,
)
from content.templates import Templates
from handlers import conversation
from tests.audiences.test_privacy import traces
from tests.chatworld import World
from tests.delivery.conftest import send_all


@dataclass
class Ward:
    author: int
    approver: int
    parents_a: int  # parents' group of class 1A
    parents_b: int  # parents' group of school B
    teachers_a: int
    parent: int  # a member of the three groups


@pytest.fixture
def world(any_world: World) -> World:
    """These tests run on both engines."""
    return any_world


@pytest.fixture
async def ward(world: World) -> AsyncIterator[Ward]:
    author = await world.person("Cán bộ Hòa")
    approver = await world.person("Phó chủ tịch Bình")
    for official in (author, approver):
        await world.grant(official, "official", "phuong-a")
    parent = await world.person("Phụ huynh Lan")
    yield Ward(
        author,
        approver,
        await world.bound_group("Phụ huynh 1A", "th-a-1a", "parents", [parent]),
        await world.bound_group("Phụ huynh 1B", "th-b-1b", "parents", [parent]),
        await world.bound_group("Giáo viên A", "th-a", "teachers", [parent]),
        parent,
    )


async def outbox(world: World) -> tuple[int, int]:
    async with world.db.session() as session:
        occurrences = (await session.exec(select(func.count()).select_from(Occurrence))).one()
        deliveries = (await session.exec(select(func.count()).select_from(Delivery))).one()
    return occurrences, deliveries


async def compose_for_parents_of_school_a(world: World, author: int) -> None:
    [draft] = await world.say(author, "/thongbao Họp phụ huynh toàn trường lúc 8 giờ Chủ nhật <3")
    assert draft.startswith("Bản nháp thông báo số 1")
    assert "Họp phụ huynh toàn trường lúc 8 giờ Chủ nhật <3" in draft  # shown as typed
    buttons = dict(await world.last_buttons(author))
    school_a = await world.unit("th-a")
    ward = await world.unit("phuong-a")
    assert buttons["✓ Phường A"] == f"ann:1:u:{ward}:off", "the whole ward is chosen to start"
    await world.press(author, author, "ann:1:a:parents:on")
    await world.press(author, author, f"ann:1:u:{ward}:off")
    await world.press(author, author, f"ann:1:u:{school_a}:on")
    [edited] = [m["text"] for m in await world.bot_messages(author)][-1:]
    assert "Gửi cho: phụ huynh" in edited and "Đơn vị: Trường Tiểu học A" in edited
    assert "Sẽ đến 1 nhóm." in edited


async def approved(world: World, ward: Ward) -> None:
    """Announcement 1, to the parents of school A, submitted and approved."""
    await compose_for_parents_of_school_a(world, ward.author)
    await world.press(ward.author, ward.author, "ann:1:submit")
    await world.press(ward.approver, ward.approver, "ann:1:ok")


async def test_an_announcement_goes_out_only_after_a_second_official_approves(
    world: World, ward: Ward
) -> None:
    await compose_for_parents_of_school_a(world, ward.author)
    await world.press(ward.author, ward.author, "ann:1:submit")
    assert (await world.bot_messages(ward.author))[-1]["text"].startswith(
        "Đã gửi thông báo số 1 tới 1 cán bộ để duyệt."
    )
    [request] = await world.news(ward.approver)
    assert request.startswith("Đề nghị duyệt thông báo số 1 của Cán bộ Hòa")
    assert "Sẽ đến: 1 nhóm" in request, "the approver sees how many groups it will reach"
    assert await outbox(world) == (0, 0), "nothing reaches the outbox before approval"

    # The author cannot approve their own, nor can a teacher, even with forged taps.
    toast = await world.forge_press(ward.author, ward.author, "ann:1:ok")
    assert toast == "Bạn không thể tự duyệt thông báo của mình: cần một cán bộ khác duyệt."
    teacher = await world.person("Cô Hạnh")
    await world.grant(teacher, "teacher", "th-a")
    toast = await world.forge_press(teacher, teacher, "ann:1:ok")
    assert toast == "Bạn không có quyền duyệt thông báo cho các đơn vị này."
    assert await outbox(world) == (0, 0)

    await world.press(ward.approver, ward.approver, "ann:1:ok")
    assert (await world.bot_messages(ward.approver))[-1]["text"].startswith(
        "Bạn đã duyệt thông báo số 1."
    )
    assert await outbox(world) == (1, 1), "to the one parents' group of school A"
    approver = await world.person_id(ward.approver)
    async with world.db.session() as session:
        announcement = await session.get(Announcement, 1)
    assert announcement is not None and announcement.approved_by == approver
    assert "đã được Phó chủ tịch Bình duyệt" in (await world.news(ward.author))[-1]

    # A second approval changes nothing.
    toast = await world.forge_press(ward.approver, ward.approver, "ann:1:ok")
    assert toast == "Thông báo này đã được xử lý rồi."

    # Progress: shown in place of the author's «submitted» message (its «Rút lại» button goes),
    # before the sends, and edited into the summary after them.
    reporter = ProgressReporter(world.db, {world.adapter.platform: world.adapter}, templates())
    await reporter.report_once()
    assert await world.news(ward.author) == [], "edited in place, not sent"
    [submitted] = [
        m for m in await world.bot_messages(ward.author) if m["text"].startswith("Đang gửi")
    ]
    assert submitted["text"] == "Đang gửi thông báo số 1: 0/1…"
    assert not submitted.get("reply_markup"), "«Rút lại» is gone once it is decided"
    await send_all(ChannelSender(world.db, world.adapter, rate_per_s=0), world.db)
    await reporter.report_once()
    assert await world.news(ward.author) == [], "edited, not sent again"
    [summary] = [
        m for m in await world.bot_messages(ward.author) if m["text"].startswith("Đã gửi xong")
    ]
    assert summary["text"].startswith("Đã gửi xong thông báo số 1\nGửi được: 1/1")
    [post] = await world.bot_messages(ward.parents_a)
    assert post["text"].startswith("📢 Thông báo – Trường Tiểu học A")
    assert "Họp phụ huynh toàn trường lúc 8 giờ Chủ nhật <3" in post["text"]
    assert "Cán bộ Phường A gửi · thông báo số 1" in post["text"]
    # Whether it was understood is measured like any post's.
    await world.press(ward.parents_a, ward.parent, f"ack:{announcement.occurrence_id}")
    async with world.db.session() as session:
        acks = (await session.exec(select(func.count()).select_from(Feedback))).one()
    assert acks == 1
    assert await world.bot_messages(ward.parents_b) == []
    assert await world.bot_messages(ward.teachers_a) == []


async def test_a_rejected_announcement_never_reaches_the_outbox(world: World, ward: Ward) -> None:
    await compose_for_parents_of_school_a(world, ward.author)
    await world.press(ward.author, ward.author, "ann:1:submit")
    await world.news(ward.approver)
    await world.press(ward.approver, ward.approver, "ann:1:no")
    assert "không được Phó chủ tịch Bình duyệt" in (await world.news(ward.author))[-1]
    # The «submitted» message is edited into the rejection (the notice is a new message).
    [submitted] = [
        m
        for m in await world.bot_messages(ward.author)
        if m.get("edited") and "không được Phó chủ tịch Bình duyệt" in m["text"]
    ]
    assert not submitted.get("reply_markup"), "no «Rút lại» once rejected"
    assert await outbox(world) == (0, 0)
    async with world.db.session() as session:
        announcement = await session.get(Announcement, 1)
        assert announcement is not None and announcement.status == "rejected"


async def test_urgent_and_at_a_time(world: World, ward: Ward) -> None:
    await world.say(ward.author, "/thongbao")  # asks for the text, which comes next
    [draft] = await world.say(ward.author, "Trường nghỉ học do bão")
    assert draft.startswith("Bản nháp thông báo số 1")
    await world.press(ward.author, ward.author, "ann:1:a:parents:on")
    await world.press(ward.author, ward.author, "ann:1:urgent:on")
    await world.press(ward.author, ward.author, "ann:1:time")
    [ask] = (await world.news(ward.author))[-1:]
    assert ask.startswith("Gửi lúc nào?")
    [again] = await world.say(ward.author, "ngày mai")
    assert again.startswith("loa chưa đọc được thời gian này")
    [draft] = await world.say(ward.author, "07:30 25/11/2030")
    assert "Thời gian: 07:30 ngày 25 tháng 11 năm 2030 · khẩn" in draft
    drafts = [m for m in await world.bot_messages(ward.author) if "Bản nháp" in m["text"]]
    assert [bool(m.get("reply_markup")) for m in drafts] == [False, True], "one live draft"
    await world.press(ward.author, ward.author, "ann:1:submit")
    await world.press(ward.approver, ward.approver, "ann:1:ok")
    async with world.db.session() as session:
        occurrence = (await session.exec(select(Occurrence))).one()
    assert occurrence.urgent
    assert occurrence.due_at.isoformat().startswith("2030-11-25T00:30"), "07:30 in Hà Nội"


async def test_composing_is_for_officials_in_private(world: World, ward: Ward) -> None:
    teacher = await world.person("Cô Hạnh")
    await world.grant(teacher, "teacher", "th-a")
    [answer] = await world.say(teacher, "/thongbao Nghỉ học")
    assert answer.startswith("Xin lỗi, vai trò của bạn chưa được phép")
    [answer] = await world.say(ward.author, "/thongbao " + "x" * 3001)
    assert answer.startswith("Nội dung cần từ 1 đến 3.000 ký tự.")
    # Telegram counts UTF-16 units: 1,990 emoji are 3,980 of them.
    [answer] = await world.say(ward.author, "/thongbao " + "😀" * 1990)
    assert answer.startswith("Nội dung cần từ 1 đến 3.000 ký tự.")
    async with world.db.session() as session:
        assert (await session.exec(select(Announcement))).all() == []


def templates() -> Templates:
    return Templates(DEFAULT_CONTENT_DIR / "templates")


async def test_a_flow_left_for_too_long_is_forgotten(world: World, ward: Ward) -> None:
    [ask] = await world.say(ward.author, "/thongbao")
    assert ask.startswith("Mời bạn gửi nội dung thông báo")
    async with world.db.session() as session:
        talk = await session.get(Conversation, await world.person_id(ward.author))
        assert talk is not None
        talk.updated_at -= conversation.TTL + timedelta(minutes=1)
        session.add(talk)
        await session.commit()
    [answer] = await world.say(ward.author, "cảm ơn loa")
    assert answer.startswith("Xin lỗi, loa chưa hiểu"), "not taken for an announcement's text"
    async with world.db.session() as session:
        assert (await session.exec(select(Announcement))).all() == []


async def test_an_author_who_erases_their_data_leaves_no_trace_in_announcements(
    world: World, ward: Ward
) -> None:
    await approved(world, ward)
    reporter = ProgressReporter(world.db, {world.adapter.platform: world.adapter}, templates())
    await reporter.report_once()  # the progress message is in the author's private chat
    await world.say(ward.author, "/xoadulieu")
    await world.press(ward.author, ward.author, "erase:yes")
    assert await traces(world, ward.author, "Cán bộ Hòa") == []

    await send_all(ChannelSender(world.db, world.adapter, rate_per_s=0), world.db)
    await reporter.report_once()  # nobody to report to now; it still finishes
    async with world.db.session() as session:
        announcement = await session.get(Announcement, 1)
    assert announcement is not None and announcement.status == "sent"
    assert announcement.approved_by == await world.person_id(ward.approver)


async def test_two_officials_deciding_at_once_settle_on_one_decision(
    world: World, ward: Ward
) -> None:
    await compose_for_parents_of_school_a(world, ward.author)
    await world.press(ward.author, ward.author, "ann:1:submit")
    third = await world.person("Chủ tịch An")
    await world.grant(third, "official", "phuong-a")
    approver, rejecter = await world.person_id(ward.approver), await world.person_id(third)
    assert approver is not None and rejecter is not None
    results = await asyncio.gather(
        decide(world.db, 1, approver, approve=True, templates=templates()),
        decide(world.db, 1, rejecter, approve=False, templates=templates()),
    )
    assert sorted(results) == [False, True], "exactly one decision wins"
    async with world.db.session() as session:
        announcement = await session.get(Announcement, 1)
        occurrences = (await session.exec(select(Occurrence))).all()
    assert announcement is not None
    assert (announcement.status == "approved") == (len(occurrences) == 1)


async def test_an_official_invited_later_finds_what_waits_with_duyet(
    world: World, ward: Ward
) -> None:
    [answer] = await world.say(ward.approver, "/duyet")
    assert answer == "Không có thông báo nào đang chờ bạn duyệt."
    await compose_for_parents_of_school_a(world, ward.author)
    await world.press(ward.author, ward.author, "ann:1:submit")
    latecomer = await world.person("Cán bộ mới")
    await world.grant(latecomer, "official", "phuong-a")
    [request] = await world.say(latecomer, "/duyet")
    assert request.startswith("Đề nghị duyệt thông báo số 1 của Cán bộ Hòa")
    answer = (await world.say(ward.author, "/duyet"))[-1]
    assert answer == "Không có thông báo nào đang chờ bạn duyệt.", "never one's own"
    await world.press(latecomer, latecomer, "ann:1:ok")
    assert await outbox(world) == (1, 1)
    teacher = await world.person("Cô Hạnh")
    await world.grant(teacher, "teacher", "th-a")
    [answer] = await world.say(teacher, "/duyet")
    assert answer.startswith("Xin lỗi, vai trò của bạn chưa được phép")


async def test_the_author_may_withdraw_until_someone_decides(world: World, ward: Ward) -> None:
    await compose_for_parents_of_school_a(world, ward.author)
    await world.press(ward.author, ward.author, "ann:1:submit")
    assert [label for label, _ in await world.last_buttons(ward.author)] == ["Rút lại"]
    assert await world.press(ward.author, ward.author, "ann:1:cancel") is None
    last = (await world.bot_messages(ward.author))[-1]["text"]
    assert last == "Đã hủy thông báo số 1, thông báo sẽ không được gửi."
    toast = await world.press(ward.approver, ward.approver, "ann:1:ok")
    assert toast == "Thông báo này đã được xử lý rồi."
    assert await outbox(world) == (0, 0)

    # Once approved, it can no longer be taken back.
    await world.say(ward.author, "/thongbao Lịch tiêm chủng")
    await world.press(ward.author, ward.author, "ann:2:a:parents:on")
    await world.press(ward.author, ward.author, "ann:2:submit")
    await world.press(ward.approver, ward.approver, "ann:2:ok")
    toast = await world.forge_press(ward.author, ward.author, "ann:2:cancel")
    assert toast == "Thông báo này đã được xử lý rồi."
    assert await outbox(world) == (1, 2), "to both parents' groups of the ward"
    [kept] = (await world.say(ward.author, "/toi"))[-1:]
    assert "Thông báo bạn đã soạn: 2, đã duyệt: 0" in kept
    [kept] = (await world.say(ward.approver, "/toi"))[-1:]
    assert "Thông báo bạn đã soạn: 0, đã duyệt: 1" in kept


async def test_progress_says_when_parents_held_by_quiet_hours_will_receive_it(
    world: World, ward: Ward
) -> None:
    now = utcnow().astimezone(templates().timezone)
    quiet = QuietHours((now - timedelta(hours=1)).time(), (now + timedelta(hours=1)).time())
    with_quiet = Templates(DEFAULT_CONTENT_DIR / "templates", quiet_hours=(quiet.start, quiet.end))
    await approved(world, ward)

    adapters = {world.adapter.platform: world.adapter}
    await ProgressReporter(world.db, adapters, with_quiet, quiet_hours=quiet).report_once()

    [progress] = [
        m["text"] for m in await world.bot_messages(ward.author) if "Đang gửi" in m["text"]
    ]
    assert f"sẽ nhận lúc {quiet.end:%H:%M}, khi hết giờ nghỉ đêm" in progress


async def test_a_failed_edit_is_sent_again_and_a_tap_handled_twice_keeps_the_choice(
    world: World, ward: Ward
) -> None:
    """A send that fails after the tap's commit is retried as a send (the handler is not run
    again), and the inbox being at least once cannot flip the choice back."""
    await world.say(ward.author, "/thongbao Họp khu phố")
    await world.sandbox.fault(method="editMessageText", status=500, count=1)
    await world.press(ward.author, ward.author, "ann:1:a:parents:on")
    await world.forge_press(ward.author, ward.author, "ann:1:a:parents:on")  # handled again

    async with world.db.session() as session:
        announcement = await session.get(Announcement, 1)
    assert announcement is not None and announcement.audiences == ["parents"]
    drafts = [m for m in await world.bot_messages(ward.author) if "Bản nháp" in m["text"]]
    assert len(drafts) == 1, "edited in place, never a second draft"
    assert "✓ Phụ huynh" in [label for label, _ in await world.last_buttons(ward.author)]
    edits = [c["status"] for c in await world.sandbox.log(method="editMessageText")]
    # The failed edit sent again, once; the second handling's edit changes nothing (Telegram
    # answers "message is not modified", which is no error).
    assert edits == [500, 200, 400]


class _NoEdits:
    """The author's platform as one that cannot edit messages (Zalo Bot)."""

    def __init__(self, adapter: Any) -> None:
        self._adapter = adapter
        self.platform = adapter.platform
        self.capabilities = replace(adapter.capabilities, edit=False)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._adapter, name)


async def test_where_messages_cannot_be_edited_the_author_gets_the_summary_once(
    world: World, ward: Ward
) -> None:
    await approved(world, ward)
    await world.news(ward.author)
    reporter = ProgressReporter(world.db, {world.adapter.platform: _NoEdits(world.adapter)},
                                templates())  # fmt: skip
    await reporter.report_once()
    assert await world.news(ward.author) == [], "no «0/1» message it could never update"
    await send_all(ChannelSender(world.db, world.adapter, rate_per_s=0), world.db)
    await reporter.report_once()
    await reporter.report_once()
    [summary] = await world.news(ward.author)
    assert summary.startswith("Đã gửi xong thông báo số 1\nGửi được: 1/1")
