"""What people send cannot lock them out: every string of an update is cleaned when the adapter
reads it (no NUL, control characters or lone surrogates), ids must be 64-bit integers, and texts
are measured in UTF-16 code units as Telegram counts them."""

from __future__ import annotations

from typing import Any

import pytest
from sqlmodel import select

from bot.domain import EventKind, OutboundMessage
from bot.platforms.base import BadRequest, MalformedUpdate
from bot.platforms.telegram import TelegramAdapter
from bot.storage.db import Database
from bot.storage.models import Person
from bot.text import clean_text, utf16_len
from tests.chatworld import chat_world

HOSTILE = "\x00Lan\x01\x1b[31m\x7f\x85\u009f\ud800 Nguyễn\udfff\n\t😀"
CLEAN = "Lan[31m� Nguyễn�\n\t😀"


def _adapter() -> TelegramAdapter:
    return TelegramAdapter("1:token", "http://127.0.0.1:9")  # never started: parsing only


def _user(uid: int = 7) -> dict[str, Any]:
    return {
        "id": uid,
        "is_bot": False,
        "first_name": HOSTILE,
        "last_name": HOSTILE,
        "username": HOSTILE,
    }


def _chat(kind: str = "group") -> dict[str, Any]:
    return {"id": -100, "type": kind, "title": HOSTILE}


def test_clean_text_keeps_newlines_tabs_and_astral_characters() -> None:
    assert clean_text(HOSTILE) == CLEAN
    assert clean_text("\ud83d\ude00") == "😀"  # a surrogate pair is the character it encodes
    assert clean_text("Đã hiểu\r\n") == "Đã hiểu\n"


def test_every_string_of_a_message_is_cleaned() -> None:
    message = {"message_id": 1, "date": 0, "chat": _chat(), "from": _user(), "text": HOSTILE}
    event = _adapter().parse_update({"update_id": 1, "message": message})
    assert event is not None and event.kind == EventKind.MESSAGE and event.user is not None
    assert (event.text, event.chat_title) == (CLEAN, CLEAN)
    assert event.user.name == f"{CLEAN} {CLEAN}"


def test_a_command_with_control_characters_is_still_a_command() -> None:
    message = {"message_id": 1, "date": 0, "chat": _chat("private"), "from": _user()}
    raw = {"update_id": 1, "message": {**message, "text": "/start\x00 K7QM\x1f-AB\ud800"}}
    event = _adapter().parse_update(raw)
    assert event is not None and (event.command, event.args) == ("start", "K7QM-AB�")


def test_only_a_username_made_of_control_characters_leaves_no_name() -> None:
    user = {"id": 7, "is_bot": False, "first_name": "\x00\x01", "username": "lan\x00"}
    message = {"message_id": 1, "date": 0, "chat": _chat("private"), "from": user, "text": "hi"}
    event = _adapter().parse_update({"update_id": 1, "message": message})
    assert event is not None and event.user is not None and event.user.name == "lan"


def test_button_data_ids_and_poll_answers_are_cleaned() -> None:
    tg = _adapter()
    query = {
        "id": "cb\x00\ud800",
        "from": _user(),
        "chat_instance": HOSTILE,
        "data": "ack:\x0012",
        "message": {"message_id": 5, "date": 0, "chat": _chat()},
    }
    event = tg.parse_update({"update_id": 2, "callback_query": query})
    assert event is not None and (event.button_data, event.callback_id) == ("ack:12", "cb�")
    assert event.chat_title == CLEAN and event.user is not None
    answer = {"poll_id": "p\x00\udc00", "user": _user(), "option_ids": [0]}
    event = tg.parse_update({"update_id": 3, "poll_answer": answer})
    assert event is not None and event.poll_id == "p�"


def test_membership_changes_are_cleaned() -> None:
    update = {
        "chat": _chat(),
        "from": _user(),
        "date": 0,
        "old_chat_member": {"status": "left", "user": _user(1)},
        "new_chat_member": {"status": "member\x00", "user": _user(1)},
    }
    event = _adapter().parse_update({"update_id": 4, "my_chat_member": update})
    assert event is not None and event.kind == EventKind.BOT_ADDED and event.chat_title == CLEAN


@pytest.mark.parametrize("update_id", [10**128, -1, 2**63, float("nan"), 1.0, "1", True, None, [1]])
def test_an_update_id_is_a_64_bit_natural_number(update_id: Any) -> None:
    with pytest.raises(MalformedUpdate):
        _adapter().update_key({"update_id": update_id})


def test_ids_beyond_64_bits_are_malformed() -> None:
    message = {"message_id": 1, "date": 0, "chat": {"id": -(10**30), "type": "group"}, "text": "x"}
    with pytest.raises(MalformedUpdate):
        _adapter().parse_update({"update_id": 1, "message": message})


def test_nesting_past_any_telegram_shape_is_malformed() -> None:
    deep: Any = "x"
    for _ in range(200):
        deep = [deep]
    message = {"message_id": 1, "date": 0, "chat": _chat(), "text": "x", "entities": deep}
    with pytest.raises(MalformedUpdate):
        _adapter().parse_update({"update_id": 1, "message": message})


def test_utf16_len_counts_astral_characters_twice() -> None:
    assert utf16_len("Đã hiểu") == 7
    assert utf16_len("😀" * 1990) == 3980
    assert utf16_len("𝕃") == 2 and utf16_len("") == 0


async def test_a_text_telegram_counts_too_long_is_refused_before_sending() -> None:
    """2,049 emoji are 2,049 characters but 4,098 UTF-16 units: Telegram would refuse them."""
    tg = _adapter()  # not started: a request would fail with another error
    with pytest.raises(BadRequest, match="too long"):
        await tg.send(OutboundMessage("-100", "😀" * 2049))
    with pytest.raises(BadRequest, match="too long"):
        await tg.edit_text("-100", "1", "<b>" + "😀" * 2049 + "</b>")


async def test_a_person_whose_name_holds_nul_can_use_the_bot(any_db: Database) -> None:
    """End to end through the sandbox, polling: on PostgreSQL a NUL in a name used to fail every
    update of that person. (The sandbox, like Telegram, sends no lone surrogates: the webhook
    tests send those.)"""
    async with chat_world(any_db) as world:
        user = await world.person("Lan\x00\x07 Nguyễn\x85")
        welcome = await world.bot_messages(user)
        assert await world.say(user, "/huongdan\x00")
        async with any_db.session() as session:
            names = (await session.exec(select(Person.display_name))).all()
    assert welcome and names == ["Lan Nguyễn"]
