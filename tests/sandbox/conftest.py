"""Fixtures: an in-process sandbox on a free port, a control-API client and PTB bots."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
from telegram import Bot

from bot.sandbox import Sandbox

TOKEN = "123456:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw"
BOT_ID = 123456


class Control:
    """Thin client for the control API and for raw Bot API calls."""

    def __init__(self, http: aiohttp.ClientSession, url: str) -> None:
        self.http = http
        self.url = url

    async def call(self, method: str, path: str, body: Any = None) -> tuple[int, Any]:
        async with self.http.request(method, f"{self.url}/sandbox/api/{path}", json=body) as resp:
            return resp.status, await resp.json()

    async def ok(self, method: str, path: str, body: Any = None) -> Any:
        status, data = await self.call(method, path, body)
        assert status < 300, (status, data)
        return data

    async def get(self, path: str) -> Any:
        return await self.ok("GET", path)

    async def post(self, path: str, body: Any = None) -> Any:
        return await self.ok("POST", path, body)

    async def user(self, name: str) -> int:
        return int((await self.post("users", {"name": name}))["id"])

    async def group(self, title: str, members: list[int], **extra: Any) -> int:
        body = {"platform": "telegram", "type": "group", "title": title, "members": members}
        return int((await self.post("chats", {**body, **extra}))["id"])

    async def messages(self, chat_id: int) -> list[dict[str, Any]]:
        result: list[dict[str, Any]] = await self.get(f"chats/{chat_id}/messages")
        return result

    async def tg(self, method: str, token: str = TOKEN, **params: Any) -> tuple[int, Any]:
        """A Bot API call with a JSON body."""
        async with self.http.post(f"{self.url}/bot{token}/{method}", json=params) as resp:
            return resp.status, await resp.json()

    async def tg_form(self, method: str, data: Any, token: str = TOKEN) -> tuple[int, Any]:
        async with self.http.post(f"{self.url}/bot{token}/{method}", data=data) as resp:
            return resp.status, await resp.json()


@pytest.fixture
async def sandbox() -> AsyncIterator[Sandbox]:
    sb = Sandbox(timeout_hold=3.0, webhook_backoff=0.05, webhook_max_attempts=4)
    await sb.start("127.0.0.1", 0)
    try:
        yield sb
    finally:
        await sb.stop()


@pytest.fixture
def url(sandbox: Sandbox) -> str:
    assert sandbox.url is not None
    return sandbox.url


@pytest.fixture
async def ctl(url: str) -> AsyncIterator[Control]:
    async with aiohttp.ClientSession() as http:
        control = Control(http, url)
        await control.post("bots", {"token": TOKEN})
        yield control


@pytest.fixture
async def bot(url: str, ctl: Control) -> AsyncIterator[Bot]:
    tg_bot = Bot(TOKEN, base_url=f"{url}/bot")
    await tg_bot.initialize()
    try:
        yield tg_bot
    finally:
        await tg_bot.shutdown()


@pytest.fixture
async def world(ctl: Control) -> dict[str, int]:
    """Two users and a group with both users and the bot in it."""
    an = await ctl.user("Nguyễn Văn An")
    binh = await ctl.user("Trần Thị Bình")
    group = await ctl.group("Lớp 5A – phụ huynh", [an, binh, BOT_ID])
    return {"an": an, "binh": binh, "group": group}
