"""The dashboard served next to the sandbox world (a ward with two schools): a browser-like
client with a cookie jar, and sign-in through the link the bot sends in chat."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import pytest
from aiohttp import ClientResponse
from aiohttp.test_utils import TestClient, TestServer

from bot.config import DEFAULT_CONTENT_DIR
from bot.domain import Platform
from bot.reports.report import Content
from bot.storage.db import Database
from bot.web import create_web_app
from bot.web.admin import Dashboard
from content.templates import Templates
from tests.activities.conftest import staff
from tests.chatworld import World, chat_world

LINK = re.compile(r"(https?://\S+/admin/vao/[A-Za-z0-9_-]+)")
CSRF = re.compile(r'name="csrf" value="([^"]+)"')


@dataclass
class Site:
    world: World
    dash: Dashboard
    client: TestClient[Any, Any]

    async def link(self, user: int) -> str:
        """What the bot answers /dangnhap with: the sign-in link."""
        text = (await self.world.say(user, "/dangnhap"))[-1]
        found = LINK.search(text)
        assert found, text
        return found.group(1)

    async def open_link(self, link: str) -> ClientResponse:
        """Open the link and press «Đăng nhập», as a browser would."""
        path = link.split(str(self.client.make_url("")), 1)[1]
        form = await self.client.get(path)
        csrf = CSRF.search(await form.text())
        assert csrf
        return await self.client.post(path, data={"csrf": csrf.group(1)}, allow_redirects=True)

    async def sign_in(self, user: int) -> str:
        response = await self.open_link(await self.link(user))
        assert response.status == 200, await response.text()
        return await response.text()

    async def csrf(self) -> str:
        found = CSRF.search(await (await self.client.get("/admin/")).text())
        assert found
        return found.group(1)


async def _site(db: Database) -> AsyncIterator[Site]:
    async with chat_world(db) as w:
        dash = Dashboard(
            db=db,
            content=Content({}, {}),
            content_dir=DEFAULT_CONTENT_DIR,
            templates=Templates(DEFAULT_CONTENT_DIR / "templates"),
            adapters={Platform.TELEGRAM: w.adapter},
        )
        app = create_web_app(inbox=w.inbox, adapters={}, webhook_secret=None, db=db, dashboard=dash)
        async with TestClient(TestServer(app)) as client:
            w.inbox.router.web_url = str(client.make_url("")).rstrip("/")  # type: ignore[attr-defined]
            yield Site(w, dash, client)


@pytest.fixture
async def site(db: Database) -> AsyncIterator[Site]:
    async for s in _site(db):
        yield s


@pytest.fixture
async def any_site(any_db: Database) -> AsyncIterator[Site]:
    """`site` on SQLite and on PostgreSQL."""
    async for s in _site(any_db):
        yield s


__all__ = ["Site", "staff"]
