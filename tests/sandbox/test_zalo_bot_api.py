"""The sandbox's Zalo Bot API, spoken raw (JSON, form, query) and by a client no one here wrote
(the PyPI package python-zalo-bot), pointed at the sandbox by its base URL."""

from __future__ import annotations

import asyncio
from typing import Any

import aiohttp
import pytest
import zalo_bot
import zalo_bot.error
from aiohttp import web
from aiohttp.test_utils import TestServer

from bot.sandbox import Sandbox
from tests.sandbox.conftest import Control

ZTOKEN = "2000000002:zalo-sandbox-secret"
ZBOT = 2000000002


async def zcall(
    ctl: Control, method: str, *, form: Any = None, query: str = "", **params: Any
) -> tuple[int, Any]:
    url = f"{ctl.url}/zalo/bot{ZTOKEN}/{method}{query}"
    kwargs: dict[str, Any] = {"data": form} if form is not None else {"json": params}
    async with ctl.http.post(url, **kwargs) as resp:
        return resp.status, await resp.json()


async def zalo_chat(ctl: Control, user: int, kind: str = "private", **extra: Any) -> int:
    body = {"platform": "zalo_bot", "type": kind, "user_id": user, "members": [ZBOT], **extra}
    return int((await ctl.post("chats", body))["id"])


async def test_get_me_and_send_in_json_form_and_query(ctl: Control) -> None:
    status, me = await zcall(ctl, "getMe")
    assert status == 200 and me["ok"] and me["result"]["id"] == str(ZBOT)
    an = await ctl.user("Nguyễn Văn An")
    chat = await zalo_chat(ctl, an)
    for kind in ("json", "form", "query"):
        if kind == "json":
            status, sent = await zcall(ctl, "sendMessage", chat_id=str(chat), text="Chào (json)")
        elif kind == "form":
            form = {"chat_id": str(chat), "text": "Chào (form)"}
            status, sent = await zcall(ctl, "sendMessage", form=form)
        else:
            query = f"?chat_id={chat}&text=Ch%C3%A0o%20(query)"
            status, sent = await zcall(ctl, "sendMessage", query=query)
        assert status == 200 and sent["ok"] is True
        assert isinstance(sent["result"]["message_id"], str)
    texts = [m["text"] for m in await ctl.messages(chat)]
    assert texts == ["Chào (json)", "Chào (form)", "Chào (query)"]
    upload = aiohttp.FormData({"chat_id": str(chat), "caption": "Ảnh (multipart)"})
    upload.add_field("photo", b"\xff\xd8 not really a jpeg", filename="a.jpg")
    status, sent = await zcall(ctl, "sendPhoto", form=upload)
    assert status == 200 and sent["result"]["message_id"]
    assert (await ctl.messages(chat))[-1]["caption"] == "Ảnh (multipart)"


async def test_errors_use_zalos_envelope(ctl: Control) -> None:
    an = await ctl.user("An")
    chat = await zalo_chat(ctl, an)
    status, body = await zcall(ctl, "sendMessage", chat_id=str(chat), text="x" * 2001)
    assert (status, body) == (400, {"ok": False, "error_code": 400, "description": "text too long"})
    assert (await zcall(ctl, "sendMessage", chat_id=str(chat), text="x" * 2000))[0] == 200
    status, body = await zcall(ctl, "sendMessage", chat_id="999", text="hi")
    assert status == 400 and body["ok"] is False
    status, body = await zcall(ctl, "noSuchMethod")
    assert status == 404 and body["error_code"] == 404
    await ctl.post("faults", {"status": 429, "method": "sendMessage", "count": 1})
    status, body = await zcall(ctl, "sendMessage", chat_id=str(chat), text="hi")
    assert (status, body["description"]) == (429, "Quota exceeded")
    await ctl.post("limits", {"private_per_s": 1})
    assert (await zcall(ctl, "sendMessage", chat_id=str(chat), text="1"))[0] == 200
    assert (await zcall(ctl, "sendMessage", chat_id=str(chat), text="2"))[0] == 429


async def test_get_updates_gives_one_update_then_408(ctl: Control) -> None:
    an = await ctl.user("Nguyễn Văn An")
    chat = await zalo_chat(ctl, an)
    await ctl.post(f"chats/{chat}/messages", {"user_id": an, "text": "Xin chào"})
    await ctl.post(f"chats/{chat}/messages", {"user_id": an, "text": "1"})
    status, first = await zcall(ctl, "getUpdates", timeout=1)
    assert status == 200 and isinstance(first["result"], dict)
    update = first["result"]
    assert update["event_name"] == "message.text.received"
    message = update["message"]
    assert message["text"] == "Xin chào"
    assert message["chat"] == {"id": str(chat), "chat_type": "PRIVATE"}
    assert message["from"] == {"id": str(chat), "display_name": "Nguyễn Văn An", "is_bot": False}
    second = (await zcall(ctl, "getUpdates", timeout=1))[1]["result"]
    assert second["message"]["text"] == "1"
    assert second["message"]["message_id"] != message["message_id"]
    status, none = await zcall(ctl, "getUpdates", timeout=0.2)
    assert status == 408 and none["ok"] is False and none["error_code"] == 408


async def test_groups_show_the_bot_only_mentions_and_replies(ctl: Control) -> None:
    an, binh = await ctl.user("An"), await ctl.user("Bình")
    body = {"platform": "zalo_bot", "type": "group", "title": "Phụ huynh 5A",
            "members": [an, binh, ZBOT]}  # fmt: skip
    group = int((await ctl.post("chats", body))["id"])
    sent = await zcall(ctl, "sendMessage", chat_id=str(group), text="Thông báo")
    assert sent[0] == 200
    bot_message = (await ctl.messages(group))[0]["message_id"]
    await ctl.post(f"chats/{group}/messages", {"user_id": an, "text": "chào Bình"})
    await ctl.post(f"chats/{group}/messages", {"user_id": binh, "text": "@Loa Sandbox 1"})
    await ctl.post(
        f"chats/{group}/messages",
        {"user_id": an, "text": "2", "reply_to_message_id": bot_message},
    )
    seen = []
    while (answer := await zcall(ctl, "getUpdates", timeout=0.2))[0] == 200:
        seen.append(answer[1]["result"]["message"]["text"])
    assert seen == ["@Loa Sandbox 1", "2"]


async def test_unsupported_messages_come_without_content(ctl: Control) -> None:
    an = await ctl.user("Em Minh")
    chat = await zalo_chat(ctl, an)
    await ctl.post(f"chats/{chat}/messages", {"user_id": an, "kind": "unsupported"})
    update = (await zcall(ctl, "getUpdates", timeout=1))[1]["result"]
    assert update["event_name"] == "message.unsupported.received"
    assert "text" not in update["message"]
    status, body = await ctl.call(
        "POST", f"chats/{chat}/messages", {"user_id": an, "kind": "voice"}
    )
    assert status == 400 and "kind" in body["error"]


async def test_webhook_posts_updates_with_the_secret(ctl: Control) -> None:
    got: list[tuple[str | None, Any]] = []
    arrived = asyncio.Event()

    async def hook(request: web.Request) -> web.Response:
        got.append((request.headers.get("X-Bot-Api-Secret-Token"), await request.json()))
        arrived.set()
        return web.Response(text="ok")

    app = web.Application()
    app.router.add_post("/hook", hook)
    async with TestServer(app, host="127.0.0.1") as server:
        hook_url = f"http://127.0.0.1:{server.port}/hook"
        assert (await zcall(ctl, "setWebhook", url=hook_url, secret_token="x"))[0] == 400
        status, _ = await zcall(ctl, "setWebhook", url=hook_url, secret_token="s3cret-token")
        assert status == 200
        info = (await zcall(ctl, "getWebhookInfo"))[1]["result"]
        assert info["url"].endswith("/hook")
        assert (await zcall(ctl, "getUpdates", timeout=0))[0] == 409
        an = await ctl.user("An")
        chat = await zalo_chat(ctl, an)
        await ctl.post(f"chats/{chat}/messages", {"user_id": an, "text": "Chào"})
        await asyncio.wait_for(arrived.wait(), 5)
        secret, body = got[0]
        assert secret == "s3cret-token"
        assert body["ok"] is True and body["result"]["message"]["text"] == "Chào"
        assert (await zcall(ctl, "deleteWebhook"))[0] == 200
        assert (await zcall(ctl, "getUpdates", timeout=0))[0] == 408


async def test_python_zalo_bot_works_unchanged(ctl: Control, url: str) -> None:
    """python-zalo-bot sends form bodies and parses one update per getUpdates."""
    an = await ctl.user("Nguyễn Văn An")
    chat = await zalo_chat(ctl, an)
    async with zalo_bot.Bot(ZTOKEN, base_url=f"{url}/zalo") as client:
        me = await client.get_me()
        assert me.id == str(ZBOT) and me.account_name
        sent = await client.send_message(str(chat), "Kính gửi quý phụ huynh")
        assert sent.message_id and sent.chat.id == str(chat)
        await ctl.post(f"chats/{chat}/messages", {"user_id": an, "text": "1"})
        update = await client.get_update(timeout=2)
        assert update is not None and update.message is not None
        assert update.message.text == "1"
        assert update.message.from_user.display_name == "Nguyễn Văn An"
        assert update.message.chat.type == "PRIVATE"
        with pytest.raises(zalo_bot.error.BadRequest, match="text too long"):
            await client.send_message(str(chat), "x" * 2001)
        with pytest.raises(zalo_bot.error.NetworkError, match="408"):
            await client.get_update(timeout=1)
    assert (await ctl.messages(chat))[0]["text"] == "Kính gửi quý phụ huynh"


async def test_reset_forgets_zalo_updates(sandbox: Sandbox, ctl: Control) -> None:
    an = await ctl.user("An")
    chat = await zalo_chat(ctl, an)
    await ctl.post(f"chats/{chat}/messages", {"user_id": an, "text": "Chào"})
    await ctl.post("reset")
    assert not sandbox.zalo_bot_hub.queues
    assert (await zcall(ctl, "getUpdates", timeout=0))[0] == 408
