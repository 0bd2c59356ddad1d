"""The Zalo Bot adapter against the sandbox: long texts in parts, typed errors, update keys and
parsing (shared/platforms.md, "Zalo Bot")."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from hypothesis import given, settings

from bot.config import DEFAULT_CONTENT_DIR
from bot.domain import Button, ChatType, EventKind, OutboundMessage, Platform
from bot.platforms.base import (
    Ambiguous,
    BadRequest,
    ChatGone,
    MalformedUpdate,
    RateLimited,
    Retryable,
)
from bot.platforms.zalo_bot import InvalidToken, ZaloBotAdapter, split
from bot.sandbox import Sandbox
from bot.sandbox.client import SandboxClient
from content.templates import Templates
from tests.test_fuzz_inbound import UNCLEAN, any_json, hostile

TOKEN = "1000000008:loa-zalo-adapter-test"
BOT = 1000000008
TEMPLATES = Templates(DEFAULT_CONTENT_DIR / "templates")


@pytest.fixture
async def zalo() -> AsyncIterator[tuple[ZaloBotAdapter, SandboxClient, int]]:
    sandbox = Sandbox(timeout_hold=3.0)
    url = await sandbox.start("127.0.0.1", 0)
    adapter = ZaloBotAdapter(TOKEN, f"{url}/zalo", TEMPLATES, timeout=1.0)
    async with SandboxClient(url) as client:
        await adapter.start()
        user = await client.create_user("Nguyễn Văn An")
        chat = await client.create_chat(
            "", type="private", platform="zalo_bot", user_id=user, members=[BOT]
        )
        try:
            yield adapter, client, chat
        finally:
            await adapter.stop()
            await sandbox.stop()


def test_split_cuts_at_paragraphs_and_keeps_every_word() -> None:
    paragraphs = [f"Đoạn {n}: " + "chữ " * 120 for n in range(12)]
    text = "\n\n".join(p.strip() for p in paragraphs)
    parts = split(text, 2000)
    assert len(parts) > 1 and all(0 < len(p) <= 2000 for p in parts)
    assert all(p.startswith("Đoạn ") for p in parts), "each part starts a paragraph"
    assert " ".join(" ".join(parts).split()) == " ".join(text.split())
    assert split("ngắn", 2000) == ["ngắn"]
    assert split("x" * 4500, 2000) == ["x" * 2000, "x" * 2000, "x" * 500], "no space: hard cut"


async def test_a_long_message_leaves_in_parts_buttons_as_numbers_at_the_end(
    zalo: tuple[ZaloBotAdapter, SandboxClient, int],
) -> None:
    adapter, client, chat = zalo
    text = "\n\n".join(f"<b>Mục {n}</b> " + "nội dung " * 60 for n in range(8))
    message = OutboundMessage(str(chat), text, (Button("Đã hiểu", "ack:1"),))
    sent = await adapter.send(message)
    shown = await client.messages(chat)
    assert len(shown) >= 2 and all(len(m["text"]) <= 2000 for m in shown)
    assert "<b>" not in "".join(m["text"] for m in shown)
    assert shown[-1]["text"].endswith("Trả lời 1 nếu đã hiểu.")
    assert sent.message_id  # the last part's: the one people answer
    assert not any("Trả lời 1" in m["text"] for m in shown[:-1])


@pytest.mark.parametrize(
    ("fault", "error"),
    [
        ({"status": 429}, RateLimited),
        ({"status": 500}, Retryable),
        ({"status": 403, "description": "Bot is blocked"}, ChatGone),
        ({"status": 400, "description": "text too long"}, BadRequest),
        ({"status": "drop"}, Ambiguous),
        ({"status": "timeout"}, Ambiguous),
    ],
)
async def test_errors_are_typed(
    zalo: tuple[ZaloBotAdapter, SandboxClient, int], fault: dict[str, Any], error: type
) -> None:
    adapter, client, chat = zalo
    await client.fault(method="sendMessage", count=1, **fault)
    with pytest.raises(error):
        await adapter.send(OutboundMessage(str(chat), "Chào"))
    assert (await adapter.send(OutboundMessage(str(chat), "Chào"))).message_id


async def test_a_later_part_failing_is_ambiguous_never_resent(
    zalo: tuple[ZaloBotAdapter, SandboxClient, int],
) -> None:
    adapter, client, chat = zalo
    await client.limits(private_per_s=1)
    with pytest.raises(Ambiguous, match="part 2 of"):
        await adapter.send(OutboundMessage(str(chat), "a " * 1500))
    assert len(await client.messages(chat)) == 1


async def test_unknown_chat_is_gone_and_editing_is_refused(
    zalo: tuple[ZaloBotAdapter, SandboxClient, int],
) -> None:
    adapter, _, _ = zalo
    with pytest.raises(ChatGone):
        await adapter.send(OutboundMessage("123", "Chào"))
    with pytest.raises(BadRequest):
        await adapter.edit_text("1", "2", "x")
    assert adapter.start_link("CODE") is None


async def test_polling_one_update_at_a_time(
    zalo: tuple[ZaloBotAdapter, SandboxClient, int],
) -> None:
    adapter, client, chat = zalo
    assert await adapter.poll(0) == []
    user = (await client.call("GET", f"chats/{chat}"))["members"][0]["id"]
    await client.write(chat, user, "/start K7QM-3XWP")
    await client.write(chat, user, "2")
    [first] = await adapter.poll(1)
    event = adapter.parse_update(first)
    assert event is not None and event.platform is Platform.ZALO_BOT
    assert (event.kind, event.command, event.args) == (EventKind.MESSAGE, "start", "K7QM-3XWP")
    assert event.chat_type is ChatType.PRIVATE and event.chat_id == str(chat)
    assert event.user is not None and event.user.name == "Nguyễn Văn An"
    [second] = await adapter.poll(1)
    assert adapter.update_key(second) != adapter.update_key(first)
    assert adapter.update_key(second).startswith("message.text.received:")
    assert await adapter.poll(0) == []


def update(event_name: str = "message.text.received", **message: Any) -> dict[str, Any]:
    body = {
        "from": {"id": "u1", "display_name": "An", "is_bot": False},
        "chat": {"id": "g1", "chat_type": "GROUP"},
        "message_id": "m1",
        "date": 1,
        **message,
    }
    return {"ok": True, "result": {"event_name": event_name, "message": body}}


def test_parsing_groups_unsupported_and_what_loa_ignores() -> None:
    adapter = ZaloBotAdapter(TOKEN, "http://unused", TEMPLATES)
    adapter.name = "Loa Sandbox"
    event = adapter.parse_update(update(text="@Loa Sandbox  1 "))
    assert event is not None and event.text == "1" and event.chat_type is ChatType.GROUP
    assert event.mentions_bot and not event.reply_to_bot
    unsupported = adapter.parse_update(update("message.unsupported.received"))
    assert unsupported is not None and unsupported.kind is EventKind.UNSUPPORTED
    assert unsupported.text is None
    photo = adapter.parse_update(update("message.image.received", photo_url="https://z/p.jpg"))
    assert photo is not None and photo.file is not None and photo.file.kind == "photo"
    assert photo.text == "" and not adapter.capabilities.keeps_files
    bare = adapter.parse_update(update("message.image.received"))
    assert bare is not None and bare.file is not None and bare.file.file_id == ""
    assert adapter.parse_update(update("message.sticker.received")) is None
    cleaned = adapter.parse_update(update(text="Chào\x00 cô\ud800"))
    assert cleaned is not None and cleaned.text == "Chào cô\ufffd"
    from_bot: dict[str, Any] = {"from": {"id": "b", "is_bot": True}}
    bot = adapter.parse_update(update("message.text.received", text="hi", **from_bot))
    assert bot is None
    assert adapter.update_key(update()) == "message.text.received:m1"
    assert adapter.update_key(update()["result"]) == "message.text.received:m1"
    for broken in ({}, {"ok": True, "result": {"event_name": "x"}}, update(message_id=None)):
        with pytest.raises(MalformedUpdate):
            adapter.update_key(broken)
    with pytest.raises(MalformedUpdate):
        adapter.parse_update(update(text=5))


def test_in_a_group_what_does_not_name_loa_is_a_reply_to_loa() -> None:
    """Zalo shows a bot in a group only mentions of it and replies to it, without saying which
    message a reply answers: loa tells a question by a mention from one by a reply."""
    adapter = ZaloBotAdapter(TOKEN, "http://unused", TEMPLATES)
    adapter.name = "Loa Sandbox"
    named = adapter.parse_update(update(text="@loa sandbox Bao giờ họp ạ?"))
    assert named is not None and named.text == "Bao giờ họp ạ?"
    assert named.mentions_bot and not named.reply_to_bot and named.reply_to_message_id is None
    replied = adapter.parse_update(update(text="Bao giờ họp ạ?"))
    assert replied is not None and replied.reply_to_bot and not replied.mentions_bot
    alone: dict[str, Any] = {"chat": {"id": "u1", "chat_type": "PRIVATE"}}
    private = adapter.parse_update(update(text="@Loa Sandbox chào", **alone))
    assert private is not None and private.text == "@Loa Sandbox chào"
    assert not private.mentions_bot and not private.reply_to_bot
    caption = adapter.parse_update(
        update("message.image.received", photo_url="https://z/p.jpg", caption="@Loa Sandbox ảnh")
    )
    assert caption is not None and caption.text == "ảnh" and caption.mentions_bot


async def test_a_refused_token_names_the_setting_never_the_token(
    zalo: tuple[ZaloBotAdapter, SandboxClient, int],
) -> None:
    _, client, _ = zalo
    url = client.api.removesuffix("/sandbox/api")
    other = ZaloBotAdapter("1000000008:another-secret-x", f"{url}/zalo", TEMPLATES)
    with pytest.raises(InvalidToken) as refused:
        await other.start()  # the bot id is taken by the adapter's own token
    assert "LOA_ZALO_BOT_TOKEN" in str(refused.value)
    assert "another-secret" not in str(refused.value)


@settings(max_examples=200, deadline=None)
@given(raw=any_json, text=hostile)
def test_whatever_arrives_parses_or_is_malformed_and_text_is_clean(raw: Any, text: str) -> None:
    adapter = ZaloBotAdapter(TOKEN, "http://unused", TEMPLATES)
    for candidate in (raw, {"ok": True, "result": raw}, update(text=text)):
        if not isinstance(candidate, dict):
            continue
        try:
            adapter.update_key(candidate)
            event = adapter.parse_update(candidate)
        except MalformedUpdate:
            continue
        if event is not None and event.text is not None:
            assert not UNCLEAN.search(event.text)
