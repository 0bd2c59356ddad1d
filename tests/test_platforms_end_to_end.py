"""The same ward's work on each platform, through the sandbox: a broadcast to the parents (a
group on Telegram and Zalo Bot, each follower's chat on Zalo OA), Đã hiểu (a tap on Telegram
and Zalo OA, "1" typed on Zalo Bot), a quiz, a teacher's activity report (/baocao) and the
quarter's reach report. Handlers are the same for every platform; only how people answer
differs (tests/channels.py)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta

import pytest
from sqlmodel import select

from bot.bench_report import PLAN
from bot.config import DEFAULT_CONTENT_DIR
from bot.delivery.sender import ChannelSender
from bot.domain import Button, Platform
from bot.reports.period import quarter_of
from bot.reports.report import AUDIENCE_FROM_REPLIES, Content, build_report
from bot.services.broadcasts import Broadcast, enqueue
from bot.storage.db import Database
from bot.storage.models import ActivityReport, Chat, Feedback, utcnow
from content.campaign.check import load_plans
from content.units import class_code
from handlers import activities
from tests.channels import TALKS, Loa, Talk, ZaloOaTalk, grant, loa_on_every_platform
from tests.delivery.conftest import send_all

CONTENT = Content({PLAN.id: PLAN}, {"nq71_2026": PLAN.id})


@pytest.fixture
async def loa(any_db: Database) -> AsyncIterator[Loa]:
    async with loa_on_every_platform(any_db) as running:
        yield running


@pytest.fixture(autouse=True)
def example_plans(monkeypatch: pytest.MonkeyPatch) -> None:
    """/baocao offers the example plans (the default content folder has none)."""
    plans = load_plans(DEFAULT_CONTENT_DIR / "examples")
    monkeypatch.setattr(activities, "_plans_in", lambda _folder: plans)


async def broadcast(loa: Loa, item: Broadcast, groups: list[int], platform: Platform) -> int:
    async with loa.db.session() as session:
        chats = [
            (await session.exec(
                select(Chat.id).where(Chat.platform == platform,
                                      Chat.platform_chat_id == str(g))
            )).one()
            for g in groups
        ]  # fmt: skip
    occurrence = await enqueue(loa.db, item, [c for c in chats if c is not None])
    sender = ChannelSender(loa.db, loa.adapters[platform], rate_per_s=0, retry_base_s=0.01)
    await send_all(sender, loa.db)
    return occurrence


@pytest.mark.parametrize("platform", list(TALKS))
async def test_a_ward_works_the_same_on_every_platform(loa: Loa, platform: Platform) -> None:
    talk = TALKS[platform](loa)
    lan, _ = await talk.person("Nguyễn Thị Lan")
    hung, _ = await talk.person("Trần Văn Hùng")
    mai, _ = await talk.person("Lê Thị Mai")
    where = await talk.audience_chats(
        "Phụ huynh lớp 1A", class_code("th-a", "Lớp 1A"), "parents", [lan, hung, mai]
    )
    chats = sorted(set(where.values()))  # one group, or (Zalo OA) each follower's chat
    for chat in chats:
        await talk.news(chat)  # what /start said

    # A broadcast asking for Đã hiểu reaches the parents, as the platform can show it.
    brief = await broadcast(
        loa,
        Broadcast(key="c:nq71_2026:brief:1", title="Tóm tắt", text="<b>Nghị quyết 71</b>",
                  buttons=(Button("Đã hiểu", "ack:{occurrence}"),),
                  source="campaign:nq71_2026/brief", kind="resolution_summary"),
        chats, platform,
    )  # fmt: skip
    for chat in chats:
        [post] = await talk.news(chat)
        assert post.startswith("Nghị quyết 71") or post.startswith("<b>")
        assert await talk.options(chat) in (["Đã hiểu"], ["đã hiểu"])
    # Two parents acknowledge; one twice: counted once, thanked once then told it is noted.
    first = await talk.choose(where[lan], lan, "Đã hiểu")
    assert any(s.startswith("Cảm ơn") for s in first), first
    if platform is not Platform.ZALO_OA:  # Zalo OA's events carry no names: loa has none
        assert any(s.startswith("Cảm ơn Nguyễn Thị Lan") for s in first), first
    again = await talk.choose(where[lan], lan, "Đã hiểu")
    assert again and not any(s.startswith("Cảm ơn") for s in again), again
    assert await talk.choose(where[hung], hung, "Đã hiểu")

    # A quiz: one right, one wrong.
    options = ["Bộ Chính trị", "Chính phủ", "UBND phường"]
    quiz = await broadcast(
        loa,
        Broadcast(key="c:nq71_2026:quiz:1", title="Câu hỏi", text="Ai ban hành NQ71?",
                  buttons=tuple(Button(o, f"quiz:{{occurrence}}:{i}") for i, o in
                                enumerate(options)),
                  source="campaign:nq71_2026/quiz", kind="quiz",
                  meta={"answer": 0, "options": options}),
        chats, platform,
    )  # fmt: skip
    for chat in chats:
        await talk.news(chat)
        assert await talk.options(chat) == options
    right = await talk.choose(where[lan], lan, "Bộ Chính trị")
    wrong = await talk.choose(where[mai], mai, "UBND phường")
    assert right and wrong and right != wrong
    async with loa.db.session() as session:
        kinds = sorted(f.kind for f in (await session.exec(select(Feedback))).all())
    receipts = {"received", "seen"}  # Zalo OA's, never engagement: counted on their own
    assert [k for k in kinds if k not in receipts] == ["ack", "ack", "quiz", "quiz"]

    # A teacher reports an activity of the school with /baocao, step by step.
    teacher, private = await talk.person("Cô Hoa")
    await grant(loa, talk, teacher, "teacher", class_code("th-a", "Lớp 1A"))
    [ask] = await talk.say(private, teacher, "/baocao")
    assert "Báo cáo hoạt động" in ask
    kinds_offered = await talk.options(private)
    await talk.choose(private, teacher, kinds_offered[0])
    await talk.choose(private, teacher, (await talk.options(private))[0])  # a plan
    await talk.choose(private, teacher, (await talk.options(private))[0])  # its theme
    assert "giáo viên" in (await talk.say(private, teacher, "1/10"))[0]
    await talk.say(private, teacher, "30")
    await talk.say(private, teacher, "120")
    await talk.say(private, teacher, "0")
    [summary] = await talk.say(private, teacher, "Họp ở hội trường")
    assert "120 học sinh" in summary
    await talk.choose(private, teacher, "Gửi")
    async with loa.db.session() as session:
        [report] = (await session.exec(select(ActivityReport))).all()
    assert report.status == "sent" and report.unit_id == await loa.unit("th-a")
    assert report.participants == {"teachers": 30, "students": 120, "parents": 0}
    # A photo as evidence: kept on Telegram (by its file id); Zalo Bot gives only a URL, said
    # so. Skipped on Zalo OA: loa reads only text from an OA (user_send_text), no images yet.
    if platform is not Platform.ZALO_OA:
        [photo] = await talk.photo(private, teacher)
        if platform is Platform.TELEGRAM:
            assert photo.startswith("Đã lưu"), photo
        else:
            assert "Zalo chỉ cho loa xem ảnh qua một đường dẫn" in photo, photo

    # The reach report: people, not messages; on Zalo Bot, from replies, and it says so; on
    # Zalo OA with its receipts: every follower's phone got both posts, Lan opened hers.
    if isinstance(talk, ZaloOaTalk):
        await talk.seen(lan)
    period = quarter_of((utcnow() + timedelta(hours=7)).date())
    found = await build_report(loa.db, period, CONTENT, now=period.end)
    totals = found["totals"]
    figures = {k: totals[k] for k in ("sent_chats", "acknowledged", "answered", "understood")}
    sent = 2 * len(chats)  # two posts to each chat
    assert figures == {"sent_chats": sent, "acknowledged": 2, "answered": 2, "understood": 1}
    assert totals["engaged"] == 4, "person-posts: Lan and Hùng on the brief, Lan and Mai the quiz"
    [row] = found["by_platform"]
    assert row["name"] == platform.value
    if platform is Platform.ZALO_BOT:
        assert totals["audience"] == 0 and totals["acknowledged_rate"] is None
        assert AUDIENCE_FROM_REPLIES in found["notes"]
    else:  # Telegram's member count; Zalo OA: each follower's chat is one person
        assert totals["audience"] == 6 and totals["acknowledged_rate"] == 66.7
        assert AUDIENCE_FROM_REPLIES not in found["notes"]
    got = (totals["received"], totals["seen"])
    assert got == ((6, 2) if platform is Platform.ZALO_OA else (0, 0)), got
    assert brief != quiz
    stats = "\n".join(await talk.say(private, teacher, "/thongke"))
    assert "• Bài đã gửi: 2" in stats
    assert ("Nhóm Zalo không cho biết số thành viên" in stats) is (platform is Platform.ZALO_BOT)
    if platform is Platform.ZALO_BOT:  # Zalo Bot has no buttons: nothing says to tap one
        said = [t for c in (*chats, private) for t in await talk.said(c)]
        assert not [t for t in said if "bấm" in t.lower() or "nút" in t.lower()]


async def test_a_school_on_two_platforms_is_one_unit_in_every_count(loa: Loa) -> None:
    """Staff on Telegram, parents on Zalo Bot: one school in the report, two platforms."""
    telegram, zalo = TALKS[Platform.TELEGRAM](loa), TALKS[Platform.ZALO_BOT](loa)
    teacher, _ = await telegram.person("Cô Hoa")
    parent, _ = await zalo.person("Phụ huynh An")
    staff = await telegram.bound_group("Cán bộ trường A", "th-a", "staff", [teacher])
    parents = await zalo.bound_group(
        "Nhóm Zalo lớp 1A", class_code("th-a", "Lớp 1A"), "parents", [parent]
    )
    item = Broadcast(key="c:nq71_2026:brief:1", title="Tóm tắt", text="Nghị quyết 71",
                     buttons=(Button("Đã hiểu", "ack:{occurrence}"),),
                     source="campaign:nq71_2026/brief")  # fmt: skip
    await broadcast(loa, item, [staff], Platform.TELEGRAM)
    await broadcast(loa, item, [parents], Platform.ZALO_BOT)  # the same item, its own delivery
    for talk, chat, user in ((telegram, staff, teacher), (zalo, parents, parent)):
        await talk.news(chat)
        assert await talk.choose(chat, user, "Đã hiểu")
    period = quarter_of((utcnow() + timedelta(hours=7)).date())
    found = await build_report(loa.db, period, CONTENT, now=period.end)
    [school] = found["by_school"]
    assert (school["code"], school["sent_chats"], school["acknowledged"]) == ("th-a", 2, 2)
    assert school["audience"] == 1, "the Telegram group's one member; Zalo's is unknown"
    platforms = {row["name"]: row["acknowledged"] for row in found["by_platform"]}
    assert platforms == {"telegram": 1, "zalo_bot": 1}
    assert found["totals"]["posts"] == 1 and AUDIENCE_FROM_REPLIES in found["notes"]


async def deliver(loa: Loa, platform: Platform) -> None:
    """The outbox's rows for `platform` sent (a clarification is a post like any other)."""
    await send_all(
        ChannelSender(loa.db, loa.adapters[platform], rate_per_s=0, retry_base_s=0.01), loa.db
    )


async def ask_and_answer(
    asker: tuple[Talk, int, int], staff: tuple[Talk, int, int], question: str, reply: str
) -> tuple[str, str]:
    """The asker (talk, group, user) asks `question` in the group naming loa; the staff member
    (talk, private chat, user) is told, picks «Trả lời» and types `reply`, which comes back
    into the group. What the staff member was told, and the answer as the group sees it."""
    (ask_talk, group, user), (staff_talk, private, member) = asker, staff
    [sent] = await ask_talk.say(group, user, question)
    assert "Trường Tiểu học A" in sent, sent
    [told] = await staff_talk.news(private)
    assert question in told, told
    assert await staff_talk.options(private) == ["Trả lời", "Đã xử lý"]
    [ask] = await staff_talk.choose(private, member, "Trả lời")
    assert "Gõ câu trả lời" in ask, ask
    [closed] = await staff_talk.say(private, member, reply)
    assert closed.startswith("Đã gửi câu trả lời"), closed
    [answer] = await ask_talk.news(group)
    assert reply in answer, answer
    return told, answer


@pytest.mark.parametrize("platform", list(TALKS))
async def test_questions_and_misinformation_on_every_platform(loa: Loa, platform: Platform) -> None:
    """A parent asks in the class group by naming loa; the teacher answers from a private
    chat; the answer comes back into the group. A misinformation report there reaches the
    ward's official, whose clarification goes to the group. On Zalo every instruction speaks
    of numbers to type, never of buttons to tap."""
    talk = TALKS[platform](loa)
    lan, _ = await talk.person("Nguyễn Thị Lan")
    teacher, teacher_chat = await talk.person("Cô Hoa")
    official, official_chat = await talk.person("Cán bộ Bình")
    await grant(loa, talk, teacher, "teacher", class_code("th-a", "Lớp 1A"))
    await grant(loa, talk, official, "official", "phuong-a")
    where = await talk.audience_chats(
        "Phụ huynh lớp 1A", class_code("th-a", "Lớp 1A"), "parents", [lan, teacher]
    )
    parents = where[lan]  # the class group; on Zalo OA, Lan's own chat with the OA
    for chat in (parents, teacher_chat, official_chat):
        await talk.news(chat)

    told, answer = await ask_and_answer(
        (talk, parents, lan), (talk, teacher_chat, teacher),
        "Cô ơi, thứ Bảy này lớp có họp phụ huynh không ạ?",
        "Có ạ, 8 giờ sáng thứ Bảy tại phòng 1A.",
    )  # fmt: skip
    if platform is Platform.ZALO_OA:  # Zalo OA's events carry no names: loa says so
        assert "(không tên), nhắn riêng cho loa" in told and "Cô Hoa" not in answer
    else:
        assert "Nguyễn Thị Lan" in told and "Cô Hoa" in answer

    [noted] = await talk.say(parents, lan, "Báo tin sai: trường không thu tiền học thêm")
    assert "cán bộ" in noted.lower(), noted
    [flagged] = await talk.news(official_chat)
    assert "trường không thu tiền học thêm" in flagged
    await talk.choose(official_chat, official, "Gửi đính chính")
    await talk.say(official_chat, official, "Trường không thu bất kỳ khoản tiền học thêm nào.")
    await deliver(loa, platform)
    [clarification] = await talk.news(parents)
    assert "Trường không thu bất kỳ khoản tiền học thêm nào." in clarification
    assert await talk.options(parents) in (["Đã hiểu"], ["đã hiểu"])

    if platform is Platform.ZALO_BOT:
        said = [t for c in (parents, teacher_chat, official_chat) for t in await talk.said(c)]
        tapped = [t for t in said if "bấm" in t.lower() or "nút" in t.lower()]
        assert not tapped, tapped
        assert "Trả lời 1 («Trả lời»)" in told


async def test_a_parent_on_zalo_is_answered_by_a_teacher_on_telegram(loa: Loa) -> None:
    """The school's staff and the ward's official use Telegram, its parents a Zalo group: a
    question and a misinformation report reach them on Telegram (with buttons), and the answer
    and the clarification leave through Zalo into the group."""
    telegram, zalo = TALKS[Platform.TELEGRAM](loa), TALKS[Platform.ZALO_BOT](loa)
    teacher, teacher_chat = await telegram.person("Cô Hoa")
    await grant(loa, telegram, teacher, "teacher", class_code("th-a", "Lớp 1A"))
    parent, _ = await zalo.person("Phụ huynh An")
    parents = await zalo.bound_group(
        "Nhóm Zalo lớp 1A", class_code("th-a", "Lớp 1A"), "parents", [parent]
    )
    await telegram.news(teacher_chat)
    told, answer = await ask_and_answer(
        (zalo, parents, parent), (telegram, teacher_chat, teacher),
        "Bao giờ con được nghỉ Tết ạ?", "Con nghỉ Tết từ ngày 14 tháng 2.",
    )  # fmt: skip
    assert "Bấm «Trả lời»" in told, "Telegram's wording, with buttons"
    assert "<" not in answer, "plain text on Zalo"

    # A misinformation report in the Zalo group reaches the ward's official on Telegram; the
    # clarification goes into the Zalo group, with its numbered «Đã hiểu».
    official, official_chat = await telegram.person("Cán bộ Bình")
    await grant(loa, telegram, official, "official", "phuong-a")
    await telegram.news(official_chat)
    await zalo.say(parents, parent, "báo tin sai: trường thu tiền học thêm")
    [flagged] = await telegram.news(official_chat)
    assert "trường thu tiền học thêm" in flagged and "Bấm «Gửi đính chính»" in flagged
    await telegram.choose(official_chat, official, "Gửi đính chính")
    await telegram.say(official_chat, official, "Trường không thu tiền học thêm.")
    await deliver(loa, Platform.ZALO_BOT)
    [clarification] = await zalo.news(parents)
    assert "Trường không thu tiền học thêm." in clarification and "Trả lời 1" in clarification
