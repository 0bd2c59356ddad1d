"""«Báo tin sai»: a reply with the phrase (any case, with or without diacritics) or
/baotinsai flags a message to the ward's officials at once; an official's clarification goes
to the affected group as a post with «Đã hiểu», delivered and counted like any post."""

from __future__ import annotations

from sqlmodel import col, select

from bot.delivery.sender import ChannelSender
from bot.reports.period import parse_period
from bot.services.reach import Filter, reach
from bot.storage.models import Occurrence, utcnow
from tests.chatworld import World
from tests.delivery.conftest import send_all
from tests.questions.conftest import Ward, items


async def test_a_reply_flags_it_and_the_clarification_is_a_counted_post(
    world: World, ward: Ward
) -> None:
    rumour = await world.sandbox.write(ward.group_a, ward.parent, "Trường thu thêm 2 triệu/em")
    await world.sandbox.write(
        ward.group_a, ward.parent, "BAO TIN sai, trường chưa thông báo", rumour
    )
    await world.pump()
    [thanks] = await world.news(ward.group_a)
    assert thanks.startswith("Cảm ơn bạn. Loa đã chuyển báo cáo tin sai tới cán bộ phường")
    [flag] = await world.news(ward.official)
    assert flag.startswith("Báo tin sai số 1")
    assert "trong nhóm «Phụ huynh 1A»" in flag
    assert "Tin bị báo sai: Trường thu thêm 2 triệu/em" in flag
    assert "Ý kiến người báo: trường chưa thông báo" in flag
    assert await world.news(ward.teacher_a) == [], "only officials see misinformation reports"
    assert [label for label, _ in await world.last_buttons(ward.official)] == [
        "Gửi đính chính",
        "Đã xử lý",
    ]
    for someone in (ward.teacher_a, ward.parent):
        toast = await world.forge_press(someone, someone, "mi:1:c")
        assert toast == "Chỉ cán bộ phường, xã phụ trách mới xử lý được báo cáo này."

    await world.press(ward.official, ward.official, "mi:1:c")
    [prompt] = await world.news(ward.official)
    assert prompt.startswith("Gõ nội dung đính chính cho báo cáo số 1")
    [done] = await world.say(ward.official, "Nhà trường không thu thêm bất kỳ khoản nào.")
    assert done.startswith("Đã đưa tin đính chính (báo cáo số 1) vào hàng gửi")
    [item] = await items(world)
    assert (item.status, item.answer) == ("answered", "Nhà trường không thu thêm bất kỳ khoản nào.")

    await send_all(ChannelSender(world.db, world.adapter, rate_per_s=0), world.db)
    [post] = await world.news(ward.group_a)
    assert post.startswith("Đính chính thông tin\nVề tin: «Trường thu thêm 2 triệu/em»")
    assert "Nhà trường không thu thêm bất kỳ khoản nào." in post
    async with world.db.session() as session:
        occurrence = (
            await session.exec(select(Occurrence).where(col(Occurrence.kind) == "clarification"))
        ).one()
    assert occurrence.id is not None and occurrence.id == item.occurrence_id
    await world.press(ward.group_a, ward.parent, f"ack:{occurrence.id}")
    period = parse_period(str(utcnow().year))
    async with world.db.reading() as conn:
        figures = (await reach(conn, Filter(period, occurrences=[occurrence.id]))).total()
    assert (figures.sent_chats, figures.audience, figures.acknowledged) == (1, 1, 1)


async def test_baotinsai_in_private_with_the_text_next(world: World, ward: Ward) -> None:
    [ask] = await world.say(ward.parent, "/báotinsai")
    assert ask.startswith("Báo tin sai\nGõ hoặc dán nội dung tin bạn thấy sai")
    [thanks] = await world.say(ward.parent, "Trên Facebook nói học sinh được nghỉ cả tuần")
    assert thanks.startswith("Cảm ơn bạn")
    [flag] = await world.news(ward.official)
    assert "nhắn riêng cho loa" in flag and "học sinh được nghỉ cả tuần" in flag
    [item] = await items(world)
    assert (item.kind, item.unit_id) == ("misinformation", await world.unit("th-a-1a"))
    # The words alone, with the command, work too.
    await world.say(ward.parent, "/baotinsai tin giả về học phí")
    assert len(await world.news(ward.official)) == 1


async def test_an_official_marks_a_report_handled(world: World, ward: Ward) -> None:
    await world.say(ward.parent, "Báo tin sai: lịch thi đổi sang thứ hai")
    await world.news(ward.official)
    await world.press(ward.official, ward.official, "mi:1:h")
    [prompt] = await world.news(ward.official)
    assert prompt.startswith("Gõ ngắn gọn lý do báo cáo số 1 đã được xử lý")
    [done] = await world.say(ward.official, "Tin đúng, không cần đính chính")
    assert done == "Đã ghi nhận báo cáo số 1 là đã xử lý."
    [item] = await items(world)
    assert (item.status, item.occurrence_id) == ("handled", None)
    toast = await world.forge_press(ward.official, ward.official, "mi:1:c")
    assert toast == "Báo cáo này đã được xử lý rồi."


async def test_the_phrase_without_a_reply_is_talk_and_the_command_says_how(
    world: World, ward: Ward
) -> None:
    await world.sandbox.write(ward.group_a, ward.parent, "báo tin sai à?")
    await world.pump()
    assert await world.news(ward.group_a) == [] and await items(world) == []
    await world.sandbox.write(ward.group_a, ward.parent, "/baotinsai")
    await world.pump()
    [how] = await world.news(ward.group_a)
    assert how.startswith("Để báo tin sai, hãy trả lời (reply) đúng tin nhắn bạn thấy sai")
