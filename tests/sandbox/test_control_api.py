"""The control API's contract, the call log, reset, and the browser UI page."""

from __future__ import annotations

import time

import pytest
from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup

from bot.sandbox.formatting import entities_to_html, parse_html

from .conftest import BOT_ID, TOKEN, Control


async def test_users_and_chats(ctl: Control) -> None:
    a = await ctl.user("An")
    b = await ctl.user("Bình")
    assert 0 < a < b
    assert [u["name"] for u in await ctl.get("users")] == ["An", "Bình"]
    group = await ctl.group("Nhóm", [a, b, BOT_ID])
    assert group < 0
    zalo = await ctl.post("chats", {"platform": "zalo_oa", "type": "group", "title": "Zalo"})
    private = await ctl.post("chats", {"type": "private", "user_id": a})
    assert private["id"] == a
    chats = {c["id"]: c for c in await ctl.get("chats")}
    assert chats[group] == {
        "id": group, "platform": "telegram", "type": "group", "title": "Nhóm",
        "members_count": 3, "bot_members": [BOT_ID], "migrated_to": None,
        "migrated_from": None, "message_count": 0,
    }  # fmt: skip
    assert chats[zalo["id"]]["platform"] == "zalo_oa"
    assert chats[a]["type"] == "private" and chats[a]["members_count"] == 1


@pytest.mark.parametrize(
    ("method", "path", "body", "status"),
    [
        ("POST", "users", {}, 400),
        ("POST", "chats", {"platform": "msn", "type": "group", "title": "x"}, 400),
        ("POST", "chats", {"type": "private"}, 400),
        ("POST", "chats", {"type": "group", "title": "x", "members": [-5]}, 400),
        ("POST", "chats/-1/messages", {"user_id": 1, "text": "x"}, 404),
        ("GET", "chats/abc/messages", None, 400),
        ("POST", "polls/nope/answer", {"user_id": 1, "option_ids": [0]}, 404),
        ("POST", "limits", {"per_hour": 3}, 400),
        ("GET", "no/such/thing", None, 404),
    ],
)
async def test_errors_are_json(
    ctl: Control, method: str, path: str, body: object, status: int
) -> None:
    got, data = await ctl.call(method, path, body)
    assert got == status
    assert isinstance(data["error"], str) and data["error"]


async def test_bot_can_join_chats_before_its_first_call(url: str, ctl: Control) -> None:
    an = await ctl.user("An")
    early = await ctl.group("Sớm", [an, 4242])
    late = await ctl.group("Muộn", [an])
    await ctl.post(f"chats/{late}/members", {"user_id": 4242})
    [entry] = [b for b in await ctl.get("bots") if b["id"] == 4242]
    assert entry["token_prefix"] is None and entry["pending_updates"] == 1
    async with Bot("4242:claims-this-bot", base_url=f"{url}/bot") as tg:
        assert (await tg.send_message(early, "x")).chat.id == early
        [update] = await tg.get_updates()
        assert update.my_chat_member is not None and update.my_chat_member.chat.id == late
    status, _ = await ctl.tg("getMe", token="4242:another-secret")
    assert status == 401


async def test_private_chat_twice_conflicts(ctl: Control) -> None:
    uid = await ctl.user("An")
    await ctl.post("chats", {"type": "private", "user_id": uid})
    status, _ = await ctl.call("POST", "chats", {"type": "private", "user_id": uid})
    assert status == 409


async def test_write_requires_membership(ctl: Control, world: dict[str, int]) -> None:
    outsider = await ctl.user("Người ngoài")
    status, data = await ctl.call(
        "POST", f"chats/{world['group']}/messages", {"user_id": outsider, "text": "x"}
    )
    assert status == 400 and "not a member" in data["error"]


async def test_messages_view(bot: Bot, ctl: Control, world: dict[str, int]) -> None:
    g = world["group"]
    markup = InlineKeyboardMarkup([[InlineKeyboardButton("OK", callback_data="ok")]])
    await bot.send_message(g, "<b>Đậm</b> &lt;script&gt;", parse_mode="HTML", reply_markup=markup)
    await ctl.post(f"chats/{g}/messages", {"user_id": world["an"], "text": "trả lời"})
    poll = await bot.send_poll(g, "Q", ["a", "b"])
    first, second, third = await ctl.messages(g)
    assert first["sender"] == {
        "id": BOT_ID, "name": "Loa Sandbox", "username": f"loa{BOT_ID}_bot", "is_bot": True
    }  # fmt: skip
    assert first["html"] == "<b>Đậm</b> &lt;script&gt;"
    assert first["reply_markup"] == {"inline_keyboard": [[{"text": "OK", "callback_data": "ok"}]]}
    assert first["edited"] is False and first["deleted"] is False and first["date"] > 0
    assert second["sender"]["name"] == "Nguyễn Văn An" and second["sender"]["is_bot"] is False
    assert third["poll"]["question"] == "Q" and poll.poll is not None
    assert third["poll"]["id"] == poll.poll.id
    assert [m["message_id"] for m in await ctl.get(f"chats/{g}/messages?after=1")] == [2, 3]


async def test_log(bot: Bot, ctl: Control, world: dict[str, int]) -> None:
    t0 = time.time()
    await bot.send_message(world["group"], "x" * 2000, reply_markup=InlineKeyboardMarkup(
        [[InlineKeyboardButton("a", callback_data="a")]]))  # fmt: skip
    await ctl.tg("sendMessage", chat_id=-1, text="x")
    log = await ctl.get(f"log?method=sendMessage&since={t0}")
    assert [(e["method"], e["chat_id"], e["status"]) for e in log] == [
        ("sendMessage", world["group"], 200), ("sendMessage", -1, 400)
    ]  # fmt: skip
    entry = log[0]
    assert entry["platform"] == "telegram" and entry["bot_id"] == BOT_ID
    assert t0 <= entry["t"] <= time.time()
    assert entry["params"]["text"].startswith("x" * 500) and len(entry["params"]["text"]) < 600
    assert entry["params"]["reply_markup"]["inline_keyboard"][0][0]["callback_data"] == "a"
    assert await ctl.get(f"log?since={time.time() + 5}") == []
    assert any(e["method"] == "getMe" for e in await ctl.get("log"))


async def test_reset(ctl: Control, world: dict[str, int]) -> None:
    await ctl.post("faults", {"status": 500})
    await ctl.post("limits", {"global_per_s": 1})
    await ctl.post("reset")
    assert await ctl.get("chats") == []
    assert await ctl.get("users") == []
    assert await ctl.get("log") == []
    assert await ctl.get("faults") == []
    assert await ctl.get("bots") == []
    assert (await ctl.get("limits"))["global_per_s"] is None
    status, _ = await ctl.tg("getMe")  # the token registers again
    assert status == 200


async def test_bots_list_hides_token(ctl: Control) -> None:
    [entry] = await ctl.get("bots")
    assert entry["id"] == BOT_ID and entry["username"] == f"loa{BOT_ID}_bot"
    assert TOKEN not in str(entry) and TOKEN.split(":")[1] not in str(entry)


async def test_ui_page(ctl: Control, world: dict[str, int]) -> None:
    async with ctl.http.get(f"{ctl.url}/sandbox") as resp:
        html = await resp.text()
        assert resp.status == 200
        assert resp.charset == "utf-8"
    assert "Lớp 5A – phụ huynh" in html
    assert "Nguyễn Văn An" in html
    async with ctl.http.get(f"{ctl.url}/sandbox/static/sandbox.js") as resp:
        assert resp.status == 200 and "innerHTML" in await resp.text()
    await ctl.group("<script>alert(1)</script>", [world["an"]])
    async with ctl.http.get(f"{ctl.url}/sandbox") as resp:
        html = await resp.text()
    assert "<script>alert(1)" not in html and "&lt;script&gt;alert(1)" in html


def test_entities_to_html_escapes_and_only_emits_known_tags() -> None:
    text, entities = parse_html('<b>a<i>b</i></b> <a href="https://x.vn/?q=&quot;">c</a> &lt;d&gt;')
    assert entities_to_html(text, entities) == (
        '<b>a</b><b><i>b</i></b> <a href="https://x.vn/?q=&quot;" target="_blank" '
        'rel="noopener noreferrer">c</a> &lt;d&gt;'
    )
    evil = [{"type": "text_link", "offset": 0, "length": 1, "url": "javascript:alert(1)"}]
    assert entities_to_html("x<img>", evil) == '<a href="#">x</a>&lt;img&gt;'
    emoji = "😀 đậm"
    assert entities_to_html(emoji, [{"type": "bold", "offset": 3, "length": 3}]) == (
        "😀 <b>đậm</b>"
    )


async def test_a_user_sends_files_and_a_bot_downloads_them(
    url: str, bot: Bot, ctl: Control, world: dict[str, int]
) -> None:
    group, parent = world["group"], world["an"]
    body = {"user_id": parent, "kind": "document", "file_name": "kế hoạch.pdf"}
    body |= {"mime_type": "application/pdf", "data": "JVBERi0xLjQ="}  # "%PDF-1.4"
    sent = await ctl.post(f"chats/{group}/files", body)
    photo = await ctl.post(
        f"chats/{group}/files", {"user_id": parent, "kind": "photo", "size": 21 * 2**20}
    )
    [*_, doc_msg, photo_msg] = await ctl.get(f"chats/{group}/messages")
    assert doc_msg["document"] == {
        "file_id": sent["file_id"], "file_unique_id": doc_msg["document"]["file_unique_id"],
        "file_name": "kế hoạch.pdf", "mime_type": "application/pdf", "file_size": 8,
    }  # fmt: skip
    sizes = photo_msg["photo"]
    assert [s["width"] for s in sizes] == [90, 1280] and sizes[-1]["file_id"] == photo["file_id"]
    file = await bot.get_file(sent["file_id"])
    assert file.file_path is not None and file.file_size == 8
    async with ctl.http.get(f"{url}/file/bot{TOKEN}/{file.file_path}") as resp:
        assert resp.status == 200 and await resp.read() == b"%PDF-1.4"
    async with ctl.http.get(f"{url}/file/bot{TOKEN}/documents/nope") as resp:
        assert resp.status == 404
    async with ctl.http.post(f"{url}/bot{TOKEN}/getFile", json={"file_id": photo["file_id"]}) as r:
        assert r.status == 400 and (await r.json())["description"] == "Bad Request: file is too big"
    status, data = await ctl.call("POST", f"chats/{group}/files", {"user_id": parent, "kind": "x"})
    assert status == 400 and "photo or document" in data["error"]
