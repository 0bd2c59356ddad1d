"""The Bot API at the HTTP level: encodings, envelopes and Telegram's exact error texts."""

from __future__ import annotations

import json
from typing import Any

import aiohttp
import pytest

from .conftest import BOT_ID, TOKEN, Control


def bad(description: str) -> dict[str, Any]:
    return {"ok": False, "error_code": 400, "description": f"Bad Request: {description}"}


async def test_get_with_query_string(ctl: Control) -> None:
    async with ctl.http.get(f"{ctl.url}/bot{TOKEN}/getMe?x=1") as resp:
        body = await resp.json()
    assert resp.status == 200
    assert body["ok"] is True and body["result"]["id"] == BOT_ID


async def test_method_names_are_case_insensitive(ctl: Control) -> None:
    status, body = await ctl.tg("GETME")
    assert status == 200 and body["result"]["username"] == f"loa{BOT_ID}_bot"


async def test_unknown_method_and_bad_tokens(ctl: Control) -> None:
    assert await ctl.tg("sendTelepathy") == (
        404, {"ok": False, "error_code": 404, "description": "Not Found"}
    )  # fmt: skip
    status, body = await ctl.tg("getMe", token="not-a-token")
    assert status == 404 and body["ok"] is False
    status, body = await ctl.tg("getMe", token=f"{BOT_ID}:SomeOtherSecret123")
    assert (status, body) == (401, {"ok": False, "error_code": 401, "description": "Unauthorized"})


async def test_new_token_registers_a_bot(ctl: Control) -> None:
    status, body = await ctl.tg("getMe", token="987654321:ZYXWVUTSRQ_-abc")
    assert status == 200
    assert body["result"] == {
        "id": 987654321, "is_bot": True, "first_name": "Loa Sandbox",
        "username": "loa987654321_bot", "can_join_groups": True,
        "can_read_all_group_messages": False, "supports_inline_queries": False,
        "can_connect_to_business": False, "has_main_web_app": False,
    }  # fmt: skip
    bots = await ctl.get("bots")
    assert {b["id"] for b in bots} == {BOT_ID, 987654321}
    assert all("ZYXWVUTSRQ_-abc" not in json.dumps(b) for b in bots)


async def test_form_body_with_json_encoded_values(ctl: Control, world: dict[str, int]) -> None:
    markup = {"inline_keyboard": [[{"text": "Có", "callback_data": "yes"}]]}
    status, body = await ctl.tg_form(
        "sendMessage",
        {"chat_id": str(world["group"]), "text": "Xin chào", "reply_markup": json.dumps(markup),
         "entities": json.dumps([{"type": "italic", "offset": 0, "length": 3}])},
    )  # fmt: skip
    assert status == 200, body
    assert body["result"]["reply_markup"] == markup
    assert body["result"]["entities"] == [{"type": "italic", "offset": 0, "length": 3}]


async def test_multipart_body(ctl: Control, world: dict[str, int]) -> None:
    form = aiohttp.FormData()
    form.add_field("chat_id", str(world["group"]))
    form.add_field("caption", "Lịch học")
    form.add_field("document", b"hello", filename="lich.txt", content_type="text/plain")
    status, body = await ctl.tg_form("sendDocument", form)
    assert status == 200, body
    doc = body["result"]["document"]
    assert doc["file_name"] == "lich.txt" and doc["file_size"] == 5
    assert doc["mime_type"] == "text/plain"
    assert body["result"]["caption"] == "Lịch học"
    [entry] = await ctl.get("log?method=sendDocument")
    assert entry["params"]["document"] == {"upload": "lich.txt", "type": "text/plain", "size": 5}


async def test_text_limits_count_utf16_after_entities(ctl: Control, world: dict[str, int]) -> None:
    g = world["group"]
    assert (await ctl.tg("sendMessage", chat_id=g, text="😀" * 2048))[0] == 200  # 4096 units
    assert await ctl.tg("sendMessage", chat_id=g, text="😀" * 2049) == (
        400, bad("message is too long")
    )  # fmt: skip
    html = "<b>" + "ậ" * 4096 + "</b>"  # tags don't count
    assert (await ctl.tg("sendMessage", chat_id=g, text=html, parse_mode="HTML"))[0] == 200
    assert await ctl.tg("sendMessage", chat_id=g, text="<b></b>", parse_mode="HTML") == (
        400, bad("message text is empty")
    )  # fmt: skip
    assert await ctl.tg("sendMessage", chat_id=g) == (400, bad("message text is empty"))
    assert await ctl.tg("sendMessage", text="x") == (400, bad("chat_id is empty"))


@pytest.mark.parametrize(
    ("html", "error"),
    [
        ("<b>x", 'Can\'t find end tag corresponding to start tag "b"'),
        ("<b>x</i>", 'Unmatched end tag at byte offset 4, expected "</b>", found "</i>"'),
        ("x</b>", "Unexpected end tag at byte offset 1"),
        ("<p>x</p>", 'Unsupported start tag "p" at byte offset 0'),
        ("Điểm < 5", 'Unsupported start tag "" at byte offset 8'),
        ('<span class="x">y</span>', 'Tag "span" must have class "tg-spoiler" at byte offset 0'),
        ("a <b", "Unclosed start tag at byte offset 2"),
    ],
)
async def test_bad_html(ctl: Control, world: dict[str, int], html: str, error: str) -> None:
    status, body = await ctl.tg("sendMessage", chat_id=world["group"], text=html, parse_mode="HTML")
    assert (status, body) == (400, bad(f"can't parse entities: {error}"))


async def test_html_entities_and_links(ctl: Control, world: dict[str, int]) -> None:
    text = (
        '<a href="https://loa.vn/?a=1&amp;b=2">link</a> AT&T &lt;3 &#7879; '
        '<tg-spoiler>s</tg-spoiler> <pre><code class="language-python">x</code></pre>'
    )
    status, body = await ctl.tg("sendMessage", chat_id=world["group"], text=text, parse_mode="HTML")
    assert status == 200, body
    result = body["result"]
    assert result["text"] == "link AT&T <3 ệ s x"
    assert result["entities"] == [
        {"type": "text_link", "offset": 0, "length": 4, "url": "https://loa.vn/?a=1&b=2"},
        {"type": "spoiler", "offset": 15, "length": 1},
        {"type": "pre", "offset": 17, "length": 1, "language": "python"},
    ]


@pytest.mark.parametrize(
    ("markup", "error"),
    [
        ("{not json", "can't parse reply keyboard markup JSON object"),
        ({"inline_keyboard": [[{"text": "x", "callback_data": "d" * 65}]]}, "BUTTON_DATA_INVALID"),
        ({"inline_keyboard": [[{"callback_data": "x"}]]},
         'can\'t parse InlineKeyboardButton: Field "text" must be of type String'),
        ({"inline_keyboard": [[{"text": "x"}]]},
         "can't parse InlineKeyboardButton: Text buttons are not allowed in the inline keyboard"),
        ({"inline_keyboard": [[{"text": "x", "callback_data": ""}]]},
         "can't parse InlineKeyboardButton: Text buttons are not allowed in the inline keyboard"),
        ({"inline_keyboard": {"text": "x"}},
         'field "inline_keyboard" of the InlineKeyboardMarkup should be an Array of Arrays'),
    ],
)  # fmt: skip
async def test_bad_reply_markup(
    ctl: Control, world: dict[str, int], markup: Any, error: str
) -> None:
    raw = markup if isinstance(markup, str) else json.dumps(markup)
    data = {"chat_id": str(world["group"]), "text": "x", "reply_markup": raw}
    assert await ctl.tg_form("sendMessage", data) == (400, bad(error))


async def test_callback_data_limit_is_64_bytes(ctl: Control, world: dict[str, int]) -> None:
    ok = {"inline_keyboard": [[{"text": "x", "callback_data": "ư" * 32}]]}  # 64 bytes
    status, _ = await ctl.tg("sendMessage", chat_id=world["group"], text="x", reply_markup=ok)
    assert status == 200


@pytest.mark.parametrize(
    ("params", "error"),
    [
        ({"question": "", "options": ["a", "b"]}, "poll question must be non-empty"),
        ({"question": "q" * 301, "options": ["a", "b"]},
         "poll question length must not exceed 300"),
        ({"question": "q", "options": ["a"]}, "poll must have at least 2 option"),
        ({"question": "q", "options": [str(i) for i in range(13)]},
         "poll can't have more than 12 options"),
        ({"question": "q", "options": ["a", "b" * 101]},
         "poll options length must not exceed 100"),
    ],
)  # fmt: skip
async def test_poll_validation(
    ctl: Control, world: dict[str, int], params: dict[str, Any], error: str
) -> None:
    assert await ctl.tg("sendPoll", chat_id=world["group"], **params) == (400, bad(error))


async def test_poll_options_as_objects(ctl: Control, world: dict[str, int]) -> None:
    status, body = await ctl.tg(
        "sendPoll", chat_id=world["group"], question="q", options=[{"text": "a"}, "b"]
    )
    assert status == 200
    poll = body["result"]["poll"]
    assert [o["text"] for o in poll["options"]] == ["a", "b"]
    assert poll["is_anonymous"] is True and poll["allows_multiple_answers"] is False


async def test_reply_to_missing_message(ctl: Control, world: dict[str, int]) -> None:
    g = world["group"]
    assert await ctl.tg("sendMessage", chat_id=g, text="x", reply_to_message_id=77) == (
        400, bad("message to be replied not found")
    )  # fmt: skip
    status, _ = await ctl.tg(
        "sendMessage", chat_id=g, text="x",
        reply_parameters={"message_id": 77, "allow_sending_without_reply": True},
    )  # fmt: skip
    assert status == 200


async def test_answer_callback_query_unknown(ctl: Control) -> None:
    assert await ctl.tg("answerCallbackQuery", callback_query_id="42") == (
        400, bad("query is too old and response timeout expired or query ID is invalid")
    )  # fmt: skip


async def test_webhook_secret_validation(ctl: Control) -> None:
    status, _ = await ctl.tg("setWebhook", url="http://127.0.0.1:9/hook", secret_token="bad token!")
    assert status == 400
    status, _ = await ctl.tg("setWebhook", url="http://127.0.0.1:9/hook", secret_token="x" * 257)
    assert status == 400


async def test_edit_rules(ctl: Control, world: dict[str, int]) -> None:
    g = world["group"]
    _, sent = await ctl.tg(
        "sendMessage", chat_id=g, text="Chọn",
        reply_markup={"inline_keyboard": [[{"text": "OK", "callback_data": "ok"}]]},
    )  # fmt: skip
    mid = sent["result"]["message_id"]
    status, edited = await ctl.tg("editMessageText", chat_id=g, message_id=mid, text="Đã chọn")
    assert status == 200 and "reply_markup" not in edited["result"]  # keyboard removed
    status, err = await ctl.call(
        "POST",
        f"chats/{g}/press",
        {"user_id": world["an"], "message_id": mid, "callback_data": "ok"},
    )
    assert status == 400 and "no button" in err["error"]
    _, photo = await ctl.tg("sendPhoto", chat_id=g, photo="https://example.org/a.jpg", caption="c")
    pid = photo["result"]["message_id"]
    assert await ctl.tg("editMessageText", chat_id=g, message_id=pid, text="x") == (
        400, bad("there is no text in the message to edit")
    )  # fmt: skip
    assert await ctl.tg("editMessageCaption", chat_id=g, message_id=mid, caption="x") == (
        400, bad("there is no caption in the message to edit")
    )  # fmt: skip
    status, body = await ctl.tg("editMessageCaption", chat_id=g, message_id=pid, caption="")
    assert status == 200 and "caption" not in body["result"]
    _, kb = await ctl.tg("sendMessage", chat_id=g, text="k", reply_markup={"keyboard": [["A"]]})
    kid = kb["result"]["message_id"]
    assert await ctl.tg("editMessageText", chat_id=g, message_id=kid, text="y") == (
        400, bad("message can't be edited")
    )  # fmt: skip
    said = await ctl.post(f"chats/{g}/messages", {"user_id": world["an"], "text": "của An"})
    assert await ctl.tg("editMessageText", chat_id=g, message_id=said["message_id"], text="z") == (
        400,
        bad("message can't be edited"),
    )
