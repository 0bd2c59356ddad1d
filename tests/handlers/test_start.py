"""/start, help, and what loa does (or does not) answer in private and group chats."""

from __future__ import annotations

from bot.storage.db import Database
from tests.handlers.fakes import Harness, message


async def test_start_welcomes_with_the_privacy_notice(db: Database) -> None:
    bot = Harness(db)
    await bot.deliver(message("/start", name="Lan"))

    [sent] = bot.platform.sent
    assert sent.chat_id == "7"
    assert sent.text.startswith("Xin chào Lan!")
    for promise in (
        "mã tài khoản",
        "tên hiển thị",
        "vai trò",
        "đơn vị",
        "câu trả lời",
        "/xoadulieu",
    ):
        assert promise in sent.text
    assert sent.reply_to_message_id is None  # no reply threading in a private chat


async def test_names_are_escaped_in_html_messages(db: Database) -> None:
    bot = Harness(db)
    await bot.deliver(message("/start", name="<b>Tuấn</b> & co"))

    assert "Xin chào &lt;b&gt;Tuấn&lt;/b&gt; &amp; co!" in bot.texts()[0]


async def test_typed_help_ignores_diacritics_and_case(db: Database) -> None:
    bot = Harness(db)
    await bot.deliver(message("/start"))
    bot.platform.sent.clear()
    await bot.deliver(message("Tro giup"), message("  TRỢ GIÚP! "), message("help"))

    texts = bot.texts()
    assert len(texts) == 3
    assert all(t.startswith("<b>Hướng dẫn sử dụng</b>") for t in texts)
    assert "Đã hiểu" in texts[0]


async def test_help_commands_ignore_case(db: Database) -> None:
    bot = Harness(db)
    await bot.deliver(message("/start"))
    bot.platform.sent.clear()
    await bot.deliver(message("/help"), message("/HuongDan"), message("/huongdan@loa_bot"))

    assert [t.startswith("<b>Hướng dẫn sử dụng</b>") for t in bot.texts()] == [True] * 3


async def test_unknown_command_in_private_chat_says_so(db: Database) -> None:
    bot = Harness(db)
    await bot.deliver(message("/khongcolenhnay"))

    notice, text = bot.texts()
    assert "Về dữ liệu cá nhân" in notice, "a first private contact gets the privacy notice"
    assert "chưa có lệnh /khongcolenhnay" in text
    assert "/huongdan" in text


async def test_group_chatter_and_unknown_commands_are_ignored(db: Database) -> None:
    bot = Harness(db)
    await bot.deliver(
        message("Chào cả nhà, mai họp phụ huynh nhé", chat_type="group"),
        message("trợ giúp", chat_type="group"),
        message("/khongcolenhnay", chat_type="group"),
    )
    assert bot.platform.sent == []


async def test_a_question_from_someone_loa_cannot_place_points_to_the_guide(
    db: Database,
) -> None:
    bot = Harness(db)
    await bot.deliver(message("/start"))
    bot.platform.sent.clear()
    await bot.deliver(message("Cô ơi cho em hỏi", chat_type="private"))

    [text] = bot.texts()
    assert text.startswith("Loa chưa biết bạn thuộc trường hay lớp nào") and "/huongdan" in text


async def test_commands_in_a_group_are_answered_in_the_group(db: Database) -> None:
    bot = Harness(db)
    await bot.deliver(message("/help", chat_type="supergroup", update_id=55))

    [sent] = bot.platform.sent
    assert sent.chat_id == "-100"
    assert sent.reply_to_message_id == "55"
