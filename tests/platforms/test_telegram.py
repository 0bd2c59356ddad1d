"""TelegramAdapter against the sandbox: what arrives, which typed error each failure becomes, and
what the updates the sandbox produces parse into."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
import telegram.error

from bot.domain import Button, ChatType, EventKind, OutboundMessage
from bot.platforms.base import (
    Ambiguous,
    BadRequest,
    ChatGone,
    ChatMigrated,
    MalformedUpdate,
    PlatformAdapter,
    RateLimited,
    Retryable,
)
from bot.platforms.telegram import TelegramAdapter
from bot.sandbox import Sandbox
from bot.sandbox.client import SandboxClient

# PTB 22 itself warns, when it builds RetryAfter, that retry_after will become a timedelta.
pytestmark = pytest.mark.filterwarnings("ignore:.*retry_after.*:DeprecationWarning")

BOT_ID = 700001
TOKEN = f"{BOT_ID}:sandbox-test-token"
TIMEOUT = 0.5  # the adapter's; the sandbox holds a `timeout` fault's answer for 1.5 s


@pytest.fixture
async def sandbox() -> AsyncIterator[str]:
    sb = Sandbox(timeout_hold=1.5)
    url = await sb.start(host="127.0.0.1", port=0)
    yield url
    await sb.stop()


@pytest.fixture
async def api(sandbox: str) -> AsyncIterator[SandboxClient]:
    async with SandboxClient(sandbox) as client:
        yield client


@pytest.fixture
async def tg(sandbox: str) -> AsyncIterator[TelegramAdapter]:
    adapter = TelegramAdapter(TOKEN, sandbox, timeout=TIMEOUT)
    await adapter.start()
    yield adapter
    await adapter.stop()


@pytest.fixture
async def parent(api: SandboxClient) -> int:
    return await api.create_user("Chị Lan")


@pytest.fixture
async def group(api: SandboxClient, tg: TelegramAdapter, parent: int) -> str:
    """A group with one parent in it, which then adds the bot."""
    chat_id = await api.create_chat("Phụ huynh 6A", members=[parent])
    await api.add_member(chat_id, BOT_ID, by_user_id=parent)
    return str(chat_id)


async def _updates(tg: TelegramAdapter) -> list[dict[str, Any]]:
    return await tg.poll(0)


async def _last_message(api: SandboxClient, chat_id: str) -> dict[str, Any]:
    return (await api.messages(chat_id))[-1]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
    return port


# --- start and shape ----------------------------------------------------------------------------


async def test_start_learns_who_the_bot_is(tg: TelegramAdapter) -> None:
    adapter: PlatformAdapter = tg  # keeps the Protocol honest under mypy
    assert adapter.capabilities.max_text_length == 4096
    assert tg.limits.group_per_min == 20
    assert tg.bot_id == str(BOT_ID)
    assert tg.username == f"loa{BOT_ID}_bot"


async def test_rejected_token_is_a_clear_error_without_the_token(sandbox: str) -> None:
    adapter = TelegramAdapter("not-a-token", sandbox, timeout=TIMEOUT)
    with pytest.raises(telegram.error.InvalidToken) as caught:
        await adapter.start()
    assert "not-a-token" not in str(caught.value)


# --- send ---------------------------------------------------------------------------------------


async def test_send_with_buttons_arrives_with_the_keyboard(
    tg: TelegramAdapter, api: SandboxClient, group: str
) -> None:
    buttons = (Button("Đã hiểu", "ack:1"), Button("Hỏi thêm", "ask:1"))
    text = '<b>Họp phụ huynh</b> thứ Bảy, xem <a href="https://example.org">lịch</a>'
    result = await tg.send(OutboundMessage(group, text, buttons))

    message = await _last_message(api, group)
    assert str(message["message_id"]) == result.message_id
    assert message["text"] == "Họp phụ huynh thứ Bảy, xem lịch"
    assert {e["type"] for e in message["entities"]} == {"bold", "text_link"}
    assert message["reply_markup"] == {
        "inline_keyboard": [
            [{"text": "Đã hiểu", "callback_data": "ack:1"}],
            [{"text": "Hỏi thêm", "callback_data": "ask:1"}],
        ]
    }
    params = (await api.log("sendMessage"))[-1]["params"]
    assert params["parse_mode"] == "HTML"
    assert params["link_preview_options"] == {"is_disabled": True}


async def test_send_as_a_reply(tg: TelegramAdapter, api: SandboxClient, group: str) -> None:
    first = await tg.send(OutboundMessage(group, "Thông báo"))
    second = await tg.send(OutboundMessage(group, "Nhắc lại", reply_to_message_id=first.message_id))
    message = await _last_message(api, group)
    assert str(message["message_id"]) == second.message_id
    assert str(message["reply_to_message_id"]) == first.message_id


async def test_too_long_callback_data_is_refused_before_sending(
    tg: TelegramAdapter, api: SandboxClient, group: str
) -> None:
    with pytest.raises(BadRequest):
        await tg.send(OutboundMessage(group, "x", (Button("Đã hiểu", "đ" * 33),)))  # 66 bytes
    assert await api.log("sendMessage") == []


async def test_too_long_text_and_bad_html_are_bad_requests_without_the_text(
    tg: TelegramAdapter, group: str
) -> None:
    with pytest.raises(BadRequest) as too_long:
        await tg.send(OutboundMessage(group, "bí mật " * 700))
    assert "too long" in str(too_long.value) and "bí mật" not in str(too_long.value)
    with pytest.raises(BadRequest) as bad_html:
        await tg.send(OutboundMessage(group, "<b>bí mật</i>"))
    assert "parse entities" in str(bad_html.value) and "bí mật" not in str(bad_html.value)


async def test_429_is_rate_limited_with_retry_after(
    tg: TelegramAdapter, api: SandboxClient, group: str
) -> None:
    await api.fault(method="sendMessage", status=429, retry_after=7, count=1)
    with pytest.raises(RateLimited) as caught:
        await tg.send(OutboundMessage(group, "x"))
    assert caught.value.retry_after == 7.0
    await tg.send(OutboundMessage(group, "x"))  # the fault was used up


async def test_sandbox_rate_limit_is_rate_limited(
    tg: TelegramAdapter, api: SandboxClient, group: str
) -> None:
    await api.limits(global_per_s=30, group_per_min=20, private_per_s=1)
    with pytest.raises(RateLimited) as caught:
        for _ in range(21):
            await tg.send(OutboundMessage(group, "x"))
    assert caught.value.retry_after > 0


async def test_kicked_bot_gets_chat_gone(
    tg: TelegramAdapter, api: SandboxClient, group: str
) -> None:
    await api.call("DELETE", f"chats/{group}/members/{BOT_ID}")
    with pytest.raises(ChatGone):
        await tg.send(OutboundMessage(group, "x"))


async def test_403_fault_and_unknown_chat_are_chat_gone(
    tg: TelegramAdapter, api: SandboxClient, group: str
) -> None:
    with pytest.raises(ChatGone):
        await tg.send(OutboundMessage("-999999", "x"))
    await api.fault(method="sendMessage", status=403, count=1)
    with pytest.raises(ChatGone):
        await tg.send(OutboundMessage(group, "x"))


async def test_400_fault_is_bad_request(
    tg: TelegramAdapter, api: SandboxClient, group: str
) -> None:
    await api.fault(method="sendMessage", status=400, count=1)
    with pytest.raises(BadRequest):
        await tg.send(OutboundMessage(group, "x"))


async def test_migrated_group_gives_the_new_id(
    tg: TelegramAdapter, api: SandboxClient, group: str
) -> None:
    new_id = (await api.call("POST", f"chats/{group}/migrate"))["new_id"]
    with pytest.raises(ChatMigrated) as caught:
        await tg.send(OutboundMessage(group, "x"))
    assert caught.value.new_chat_id == str(new_id)
    await tg.send(OutboundMessage(caught.value.new_chat_id, "x"))


async def test_500_is_retryable(tg: TelegramAdapter, api: SandboxClient, group: str) -> None:
    await api.fault(method="sendMessage", status=500, count=1)
    with pytest.raises(Retryable):
        await tg.send(OutboundMessage(group, "x"))


async def test_timeout_is_ambiguous_and_the_message_did_arrive(
    tg: TelegramAdapter, api: SandboxClient, group: str
) -> None:
    await api.fault(method="sendMessage", status="timeout", count=1)
    with pytest.raises(Ambiguous):
        await tg.send(OutboundMessage(group, "Họp lúc 7 giờ"))
    assert (await _last_message(api, group))["text"] == "Họp lúc 7 giờ"


async def test_dropped_connection_is_ambiguous(
    tg: TelegramAdapter, api: SandboxClient, group: str
) -> None:
    await api.fault(method="sendMessage", status="drop", count=1)
    with pytest.raises(Ambiguous):
        await tg.send(OutboundMessage(group, "x"))


async def test_nothing_listening_is_retryable() -> None:
    adapter = TelegramAdapter(TOKEN, f"http://127.0.0.1:{_free_port()}", timeout=TIMEOUT)
    with pytest.raises(Retryable):
        await adapter.start()
    await adapter.stop()


async def test_server_gone_after_start_is_retryable() -> None:
    sb = Sandbox()
    url = await sb.start(host="127.0.0.1", port=0)
    adapter = TelegramAdapter(TOKEN, url, timeout=TIMEOUT)
    await adapter.start()
    await sb.stop()
    try:
        with pytest.raises(Retryable):
            await adapter.send(OutboundMessage("-1", "x"))
    finally:
        await adapter.stop()


async def test_more_concurrent_sends_than_connections(
    sandbox: str, api: SandboxClient, group: str
) -> None:
    adapter = TelegramAdapter(TOKEN, sandbox, pool_size=4, timeout=5)
    await adapter.start()
    try:
        sends = [adapter.send(OutboundMessage(group, f"tin {i}")) for i in range(200)]
        results = await asyncio.gather(*sends)
    finally:
        await adapter.stop()
    assert len({r.message_id for r in results}) == 200
    assert len(await api.messages(group)) >= 200


# --- other calls --------------------------------------------------------------------------------


async def test_answer_button_edit_and_member_count(
    tg: TelegramAdapter, api: SandboxClient, group: str, parent: int
) -> None:
    sent = await tg.send(OutboundMessage(group, "Lịch cũ", (Button("Đã hiểu", "ack"),)))
    await _updates(tg)
    body = {"user_id": parent, "message_id": int(sent.message_id), "callback_data": "ack"}
    await api.call("POST", f"chats/{group}/press", body)
    [event] = [tg.parse_update(u) for u in await _updates(tg)]
    assert event is not None and event.callback_id is not None
    await tg.answer_button(event.callback_id, "Cảm ơn")
    answered = await api.call("GET", f"callbacks/{event.callback_id}")
    assert "Cảm ơn" in str(answered)

    await tg.edit_text(group, sent.message_id, "<i>Lịch mới</i>")
    await tg.edit_text(group, sent.message_id, "<i>Lịch mới</i>")  # unchanged: not an error
    edited = await _last_message(api, group)
    assert edited["text"] == "Lịch mới" and edited["edited"]
    assert not edited["reply_markup"]  # as on Telegram, an edit without a keyboard drops it
    with pytest.raises(BadRequest):
        await tg.edit_text(group, "999999", "x")
    assert await tg.member_count(group) == 1  # the parent; the bot is not audience


async def test_webhook_and_polling_exclude_each_other(tg: TelegramAdapter) -> None:
    await tg.set_webhook("http://127.0.0.1:9/webhook/telegram", "s3cret-s3cret")
    with pytest.raises(Retryable):  # 409 Conflict
        await tg.poll(0)
    await tg.delete_webhook()
    assert await tg.poll(0) == []


# --- polling and parsing ------------------------------------------------------------------------


async def test_poll_confirms_what_it_returned(
    tg: TelegramAdapter, api: SandboxClient, group: str, parent: int
) -> None:
    await _updates(tg)
    for text in ("một", "hai"):
        await api.call("POST", f"chats/{group}/messages", {"user_id": parent, "text": text})
    first = await tg.poll(1)
    assert [u["message"]["text"] for u in first] == ["một", "hai"]
    assert first[1]["update_id"] == first[0]["update_id"] + 1
    await api.call("POST", f"chats/{group}/messages", {"user_id": parent, "text": "ba"})
    second = await tg.poll(1)
    assert [u["message"]["text"] for u in second] == ["ba"]
    assert await tg.poll(0) == []


async def test_parse_bot_added_and_removed(
    tg: TelegramAdapter, api: SandboxClient, parent: int
) -> None:
    chat_id = await api.create_chat("Tổ chuyên môn", members=[parent])
    await api.add_member(chat_id, BOT_ID, by_user_id=parent)
    await api.call("DELETE", f"chats/{chat_id}/members/{BOT_ID}")
    events = [tg.parse_update(u) for u in await _updates(tg)]
    kinds = [(e.kind, e.chat_id, e.chat_type, e.user and e.user.id) for e in events if e]
    assert kinds == [
        (EventKind.BOT_ADDED, str(chat_id), ChatType.GROUP, str(parent)),
        (EventKind.BOT_REMOVED, str(chat_id), ChatType.GROUP, str(parent)),
    ]


async def test_parse_messages_and_commands(
    tg: TelegramAdapter, api: SandboxClient, group: str, parent: int
) -> None:
    await _updates(tg)
    texts = [
        "Con em nghỉ ốm hôm nay",
        "/start abc 123",
        f"/start@{tg.username} xyz",
        "/start@other_bot xyz",
        "/help",
    ]
    for text in texts:
        await api.call("POST", f"chats/{group}/messages", {"user_id": parent, "text": text})
    events = [tg.parse_update(u) for u in await _updates(tg)]

    plain, start, addressed, other, bare = events
    assert plain is not None and plain.kind == EventKind.MESSAGE
    assert (plain.text, plain.command, plain.chat_id) == (texts[0], None, group)
    assert plain.chat_type == ChatType.GROUP and plain.chat_title == "Phụ huynh 6A"
    assert plain.user is not None and plain.user.id == str(parent)
    assert plain.user.name == "Chị Lan" and not plain.user.is_bot
    assert plain.message_id is not None
    assert start is not None and (start.command, start.args) == ("start", "abc 123")
    assert addressed is not None and (addressed.command, addressed.args) == ("start", "xyz")
    assert other is None
    assert bare is not None and (bare.command, bare.args) == ("help", "")


async def test_parse_replies_and_mentions(
    tg: TelegramAdapter, api: SandboxClient, group: str, parent: int
) -> None:
    ours = await tg.send(OutboundMessage(group, "Họp phụ huynh <b>thứ bảy</b>"))
    await _updates(tg)
    theirs = await api.write(group, parent, "Trường thu thêm 2 triệu")
    await api.write(group, parent, "Phòng nào ạ?", int(ours.message_id))
    await api.write(group, parent, "báo tin sai", theirs)
    await api.write(group, parent, f"Nhờ @{tg.username.upper()} hỏi giúp")
    await api.write(group, parent, "Nhờ @someone_else_bot hỏi giúp")
    events = [tg.parse_update(u) for u in await _updates(tg)]
    plain, to_us, to_them, named, other = events
    assert plain is not None and (plain.reply_to_message_id, plain.mentions_bot) == (None, False)
    assert to_us is not None and to_us.reply_to_bot
    assert (to_us.reply_to_message_id, to_us.reply_to_text) == (
        ours.message_id,
        "Họp phụ huynh thứ bảy",
    )
    assert to_them is not None and not to_them.reply_to_bot
    assert to_them.reply_to_text == "Trường thu thêm 2 triệu"
    assert named is not None and named.mentions_bot and not named.reply_to_bot
    assert other is not None and not other.mentions_bot


async def test_parse_photos_and_documents(
    tg: TelegramAdapter, api: SandboxClient, group: str, parent: int
) -> None:
    await _updates(tg)
    await api.send_file(group, parent, "photo", size=300_000, caption=f"Ảnh @{tg.username}")
    await api.send_file(
        group, parent, "document", file_name="kế hoạch.pdf", mime_type="application/pdf", size=5
    )
    photo, document = [tg.parse_update(u) for u in await _updates(tg)]
    assert photo is not None and photo.file is not None and photo.kind == EventKind.MESSAGE
    assert (photo.file.kind, photo.file.size) == ("photo", 300_000), "the largest size"
    assert photo.text == f"Ảnh @{tg.username}" and photo.mentions_bot, "the caption is its text"
    assert document is not None and document.file is not None and document.text == ""
    assert (document.file.name, document.file.mime_type, document.file.size) == (
        "kế hoạch.pdf",
        "application/pdf",
        5,
    )
    assert document.file.file_id.startswith("BQAC") and document.file.file_unique_id


async def test_parse_private_message(tg: TelegramAdapter, api: SandboxClient, parent: int) -> None:
    chat_id = await api.create_chat("", type="private", user_id=parent, members=[BOT_ID])
    await api.call("POST", f"chats/{chat_id}/messages", {"user_id": parent, "text": "/start"})
    events = [tg.parse_update(u) for u in await _updates(tg)]
    message = events[-1]
    assert message is not None and message.chat_type == ChatType.PRIVATE
    assert message.command == "start"


async def test_parse_button_press(
    tg: TelegramAdapter, api: SandboxClient, group: str, parent: int
) -> None:
    sent = await tg.send(OutboundMessage(group, "Đã đọc?", (Button("Đã hiểu", "ack:42"),)))
    await _updates(tg)
    body = {"user_id": parent, "message_id": int(sent.message_id), "callback_data": "ack:42"}
    await api.call("POST", f"chats/{group}/press", body)
    [event] = [tg.parse_update(u) for u in await _updates(tg)]
    assert event is not None and event.kind == EventKind.BUTTON
    assert (event.button_data, event.chat_id, event.message_id) == (
        "ack:42",
        group,
        sent.message_id,
    )
    assert event.user is not None and event.user.id == str(parent)
    assert event.callback_id


async def test_parse_poll_answer(
    tg: TelegramAdapter, api: SandboxClient, sandbox: str, group: str, parent: int
) -> None:
    # The adapter does not send polls (OutboundMessage has none yet); ask the Bot API directly.
    params = {
        "chat_id": group,
        "question": "Họp lúc nào?",
        "options": '[{"text": "Sáng"}, {"text": "Chiều"}]',
        "is_anonymous": "false",
    }
    async with (
        aiohttp.ClientSession() as http,
        http.post(f"{sandbox}/bot{TOKEN}/sendPoll", data=params) as response,
    ):
        poll_id = (await response.json())["result"]["poll"]["id"]
    await _updates(tg)
    await api.call("POST", f"polls/{poll_id}/answer", {"user_id": parent, "option_ids": [1]})
    events = [tg.parse_update(u) for u in await _updates(tg)]
    answers = [e for e in events if e is not None]
    assert len(answers) == 1  # the `poll` (vote count) update is not an event
    [answer] = answers
    assert answer.kind == EventKind.POLL_ANSWER
    assert (answer.poll_id, answer.option_ids) == (poll_id, (1,))
    assert answer.user is not None and answer.user.id == str(parent)


async def test_parse_migration(
    tg: TelegramAdapter, api: SandboxClient, group: str, parent: int
) -> None:
    await _updates(tg)
    new_id = (await api.call("POST", f"chats/{group}/migrate"))["new_id"]
    events = [tg.parse_update(u) for u in await _updates(tg)]
    migrated = [e for e in events if e is not None]
    assert len(migrated) == 1  # the "migrated from" message in the new chat is not an event
    assert migrated[0].kind == EventKind.CHAT_MIGRATED
    assert (migrated[0].chat_id, migrated[0].new_chat_id) == (group, str(new_id))


@pytest.mark.parametrize(
    "raw",
    [
        {},
        {"update_id": "7"},
        {"update_id": True},
        {"update_id": 7, "message": "hi"},
        {"update_id": 7, "message": {"message_id": 1, "text": "hi"}},
        {"update_id": 7, "message": {"message_id": 1, "chat": {"id": "x", "type": "group"}}},
        {"update_id": 7, "message": {"chat": {"id": -1, "type": "group"}, "text": "hi"}},
        {"update_id": 7, "callback_query": {"from": {"id": 1}, "data": "ack"}},
        {"update_id": 7, "poll_answer": {"poll_id": "p", "option_ids": "0"}},
        {
            "update_id": 7,
            "my_chat_member": {"chat": {"id": -1, "type": "group"}, "from": {"id": 1}},
        },
    ],
)
def test_malformed_updates(raw: dict[str, Any]) -> None:
    adapter = TelegramAdapter(TOKEN, "http://127.0.0.1:9")
    with pytest.raises(MalformedUpdate):
        adapter.parse_update(raw)


def test_update_key_and_ignored_kinds() -> None:
    adapter = TelegramAdapter(TOKEN, "http://127.0.0.1:9")
    assert adapter.update_key({"update_id": 42}) == "42"
    with pytest.raises(MalformedUpdate):
        adapter.update_key({"message": {}})
    assert adapter.parse_update({"update_id": 42, "edited_message": {"x": 1}}) is None
    assert adapter.parse_update({"update_id": 43, "poll": {"id": "p"}}) is None


def test_a_long_button_label_is_cut_to_what_telegram_shows() -> None:
    from bot.platforms.telegram import _keyboard

    long = "Trường Trung học cơ sở Nguyễn Thị Minh Khai, phường Hòa Bình, tỉnh Thái Nguyên"
    [[button]] = _keyboard((Button(long, "bind:1:p:2"),))["inline_keyboard"]
    assert len(button["text"]) == 64 and button["text"].endswith("…")
    assert button["text"].startswith("Trường Trung học cơ sở Nguyễn Thị Minh Khai")
