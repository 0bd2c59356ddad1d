"""python-telegram-bot 22.8 as a strict client: every returned object must parse."""

from __future__ import annotations

import pytest
from telegram import (
    Bot,
    BotCommand,
    ChatFullInfo,
    ChatMemberLeft,
    ChatMemberMember,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    InputPollOption,
    ReplyParameters,
    TelegramObject,
)
from telegram.constants import ParseMode
from telegram.error import BadRequest, ChatMigrated, Forbidden, InvalidToken

from .conftest import BOT_ID, Control

KEYBOARD = InlineKeyboardMarkup(
    [[InlineKeyboardButton("Đã đọc", callback_data="ack:1")],
     [InlineKeyboardButton("Mở", url="https://example.org/a")]]
)  # fmt: skip


async def test_initialize_and_get_me(bot: Bot) -> None:
    me = await bot.get_me()
    assert me.id == BOT_ID
    assert me.is_bot
    assert me.first_name == "Loa Sandbox"
    assert me.username == f"loa{BOT_ID}_bot"
    assert bot.username == me.username


async def test_send_message_with_keyboard(bot: Bot, ctl: Control, world: dict[str, int]) -> None:
    msg = await bot.send_message(
        world["group"], "<b>Họp phụ huynh</b> lúc 8h &amp; 9h", parse_mode=ParseMode.HTML,
        reply_markup=KEYBOARD, disable_notification=True,
    )  # fmt: skip
    assert msg.text == "Họp phụ huynh lúc 8h & 9h"
    assert [(e.type, e.offset, e.length) for e in msg.entities] == [("bold", 0, 13)]
    assert msg.reply_markup == KEYBOARD
    assert msg.chat.id == world["group"] and msg.chat.type == "group"
    assert msg.from_user is not None and msg.from_user.id == BOT_ID
    second = await bot.send_message(world["group"], "tiếp", reply_parameters=ReplyParameters(1))
    assert second.message_id == msg.message_id + 1
    assert second.reply_to_message is not None
    assert second.reply_to_message.message_id == msg.message_id
    stored = await ctl.messages(world["group"])
    assert [m["text"] for m in stored] == ["Họp phụ huynh lúc 8h & 9h", "tiếp"]
    assert stored[0]["reply_markup"]["inline_keyboard"][0][0]["callback_data"] == "ack:1"
    assert stored[1]["reply_to_message_id"] == msg.message_id


async def test_send_poll_and_stop(bot: Bot, world: dict[str, int]) -> None:
    msg = await bot.send_poll(
        world["group"], "Chọn ngày họp?", ["Thứ bảy", InputPollOption("Chủ nhật")],
        is_anonymous=False, allows_multiple_answers=True,
    )  # fmt: skip
    assert msg.poll is not None
    assert [o.text for o in msg.poll.options] == ["Thứ bảy", "Chủ nhật"]
    assert not msg.poll.is_anonymous and msg.poll.allows_multiple_answers
    stopped = await bot.stop_poll(world["group"], msg.message_id)
    assert stopped.is_closed
    with pytest.raises(BadRequest, match=r"(?i)poll has already been closed"):
        await bot.stop_poll(world["group"], msg.message_id)


async def test_get_chat_and_members(bot: Bot, world: dict[str, int]) -> None:
    chat = await bot.get_chat(world["group"])
    assert isinstance(chat, ChatFullInfo)
    assert chat.title == "Lớp 5A – phụ huynh"
    assert chat.type == "group" and chat.id < 0
    assert await bot.get_chat_member_count(world["group"]) == 3
    member = await bot.get_chat_member(world["group"], world["an"])
    assert isinstance(member, ChatMemberMember)
    assert member.user.first_name == "Nguyễn Văn An"
    me = await bot.get_chat_member(world["group"], BOT_ID)
    assert me.status == "member"


async def test_private_chat_get_chat(bot: Bot, ctl: Control) -> None:
    uid = await ctl.user("Lê Cường")
    await ctl.post("chats", {"type": "private", "user_id": uid, "members": [BOT_ID]})
    chat = await bot.get_chat(uid)
    assert chat.id == uid and chat.type == "private" and chat.first_name == "Lê Cường"
    msg = await bot.send_message(uid, "chào")
    assert msg.chat.id == uid


async def test_edit_delete_and_commands(bot: Bot, ctl: Control, world: dict[str, int]) -> None:
    msg = await bot.send_message(world["group"], "v1", reply_markup=KEYBOARD)
    edited = await bot.edit_message_text("v2", world["group"], msg.message_id)
    assert isinstance(edited, type(msg)) and edited.text == "v2"
    assert edited.edit_date is not None
    with pytest.raises(BadRequest, match=r"(?i)message is not modified"):
        await bot.edit_message_text("v2", world["group"], msg.message_id)
    await bot.edit_message_reply_markup(world["group"], msg.message_id, reply_markup=KEYBOARD)
    assert await bot.delete_message(world["group"], msg.message_id)
    with pytest.raises(BadRequest, match=r"(?i)message to delete not found"):
        await bot.delete_message(world["group"], msg.message_id)
    with pytest.raises(BadRequest, match=r"(?i)message to edit not found"):
        await bot.edit_message_text("x", world["group"], 999)
    [stored] = await ctl.messages(world["group"])
    assert stored["edited"] and stored["deleted"] and stored["text"] == "v2"

    commands = [BotCommand("start", "Bắt đầu"), BotCommand("help", "Trợ giúp")]
    assert await bot.set_my_commands(commands)
    assert await bot.get_my_commands() == tuple(commands)


async def test_photo_and_document_uploads(bot: Bot, ctl: Control, world: dict[str, int]) -> None:
    photo = await bot.send_photo(world["group"], b"\x89PNG fake bytes", caption="<i>ảnh</i>",
                                 parse_mode="HTML")  # fmt: skip
    assert photo.photo and photo.caption == "ảnh"
    doc = await bot.send_document(world["group"], b"%PDF-1.4", filename="thong-bao.pdf")
    assert doc.document is not None and doc.document.file_name == "thong-bao.pdf"
    again = await bot.send_document(world["group"], doc.document.file_id)
    assert again.document is not None and again.document.file_id == doc.document.file_id
    by_url = await bot.send_photo(world["group"], "https://example.org/a.jpg")
    assert by_url.photo
    with pytest.raises(BadRequest, match=r"(?i)wrong file identifier/http url specified"):
        await bot.send_document(world["group"], "no-such-file-id")


async def test_validation_errors_map_to_ptb(bot: Bot, world: dict[str, int]) -> None:
    group = world["group"]
    with pytest.raises(BadRequest, match=r"(?i)^chat not found$"):
        await bot.send_message(-999, "x")
    with pytest.raises(BadRequest, match=r"(?i)message text is empty"):
        await bot.send_message(group, "   ")
    with pytest.raises(BadRequest, match=r"(?i)message is too long"):
        await bot.send_message(group, "a" * 4097)
    assert await bot.send_message(group, "a" * 4096)
    with pytest.raises(BadRequest, match=r"(?i)can't parse entities: unsupported start tag"):
        await bot.send_message(group, "<div>x</div>", parse_mode="HTML")
    with pytest.raises(BadRequest, match=r"(?i)button_data_invalid"):
        markup = InlineKeyboardMarkup([[InlineKeyboardButton("x", callback_data="é" * 33)]])
        await bot.send_message(group, "x", reply_markup=markup)


async def test_forbidden_variants(bot: Bot, ctl: Control, world: dict[str, int]) -> None:
    other = await ctl.group("Lớp khác", [world["an"]])
    with pytest.raises(Forbidden, match="bot is not a member of the group chat"):
        await bot.send_message(other, "x")
    await ctl.ok("DELETE", f"chats/{world['group']}/members/{BOT_ID}")
    with pytest.raises(Forbidden, match="bot was kicked from the group chat"):
        await bot.send_message(world["group"], "x")
    lone = await ctl.user("Chưa bắt đầu")
    await ctl.post("chats", {"type": "private", "user_id": lone})
    with pytest.raises(Forbidden, match="bot can't initiate conversation with a user"):
        await bot.send_message(lone, "x")
    await ctl.post(f"chats/{lone}/members", {"user_id": BOT_ID})  # the user pressed Start
    assert await bot.send_message(lone, "x")
    await ctl.ok("DELETE", f"chats/{lone}/members/{BOT_ID}")  # ...and then blocked the bot
    with pytest.raises(Forbidden, match="bot was blocked by the user"):
        await bot.send_message(lone, "x")


async def test_chat_migrated(bot: Bot, ctl: Control, world: dict[str, int]) -> None:
    new_id = (await ctl.post(f"chats/{world['group']}/migrate"))["new_id"]
    assert str(new_id).startswith("-100")
    with pytest.raises(ChatMigrated) as info:
        await bot.send_message(world["group"], "x")
    assert info.value.new_chat_id == new_id
    msg = await bot.send_message(new_id, "x")
    assert msg.chat.type == "supergroup"
    left = await bot.get_chat_member(new_id, await ctl.user("Người lạ"))
    assert isinstance(left, ChatMemberLeft)


@pytest.mark.parametrize("token", ["nonsense", "123:short", f"{BOT_ID}:WrongSecretButWellFormed"])
async def test_invalid_tokens(url: str, ctl: Control, token: str) -> None:
    with pytest.raises(InvalidToken):
        async with Bot(token, base_url=f"{url}/bot") as bad:
            await bad.get_me()


async def test_delete_needs_admin_for_others_messages(
    bot: Bot, ctl: Control, world: dict[str, int]
) -> None:
    group = world["group"]
    body = {"user_id": world["an"], "text": "tin của An"}
    mid = (await ctl.post(f"chats/{group}/messages", body))["message_id"]
    with pytest.raises(BadRequest, match=r"(?i)message can't be deleted"):
        await bot.delete_message(group, mid)
    await ctl.post(f"chats/{group}/members", {"user_id": BOT_ID, "status": "administrator"})
    assert await bot.delete_message(group, mid)
    assert (await bot.get_chat_member(group, BOT_ID)).status == "administrator"


async def test_objects_have_no_unknown_fields(
    bot: Bot, ctl: Control, world: dict[str, int]
) -> None:
    """PTB files fields it does not know under api_kwargs: there must be none."""
    g = world["group"]
    msg = await bot.send_message(g, "<b>x</b>", parse_mode="HTML", reply_markup=KEYBOARD)
    poll = await bot.send_poll(g, "Q", ["a", "b"], is_anonymous=False)
    assert poll.poll is not None
    await ctl.post(f"chats/{g}/press", {"user_id": world["an"], "message_id": msg.message_id,
                                        "callback_data": "ack:1"})  # fmt: skip
    await ctl.post(f"polls/{poll.poll.id}/answer", {"user_id": world["an"], "option_ids": [1]})
    await ctl.post(f"chats/{g}/migrate")
    objects = [
        await bot.get_me(), msg, poll, await bot.get_webhook_info(),
        *(await bot.get_updates()),
    ]  # fmt: skip
    new_id = (await ctl.get("chats"))[-1]["id"]
    objects += [await bot.get_chat(new_id), await bot.get_chat_member(new_id, world["an"])]
    pending: list[TelegramObject] = list(objects)
    seen = 0
    while pending:
        item = pending.pop()
        seen += 1
        assert not item.api_kwargs, (type(item).__name__, item.api_kwargs)
        slots = {s for cls in type(item).__mro__ for s in getattr(cls, "__slots__", ())}
        for slot in slots - {"_bot", "_frozen", "_id_attrs", "api_kwargs"}:
            value = getattr(item, slot, None)
            if isinstance(value, TelegramObject):
                pending.append(value)
            elif isinstance(value, tuple):
                pending.extend(v for v in value if isinstance(v, TelegramObject))
    assert seen > 30  # the walk reached nested objects (users, chats, keyboards, options...)
