"""POST /webhook/telegram and GET /healthz, over real HTTP (aiohttp's test server)."""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer
from sqlmodel import select

from bot.domain import Platform
from bot.inbox import Inbox
from bot.storage.db import Database
from bot.storage.models import InboxUpdate
from bot.web import create_web_app
from tests.handlers.fakes import FakePlatform, Harness, message

SECRET = "s3cret_token-1"
GOOD = {"X-Telegram-Bot-Api-Secret-Token": SECRET}
URL = "/webhook/telegram"

Client = TestClient[Any, Any]


@pytest.fixture
async def make_client() -> AsyncIterator[Callable[..., Any]]:
    clients: list[Client] = []

    async def make(bot: Harness, secret: str | None = SECRET) -> Client:
        app = create_web_app(inbox=bot.inbox, adapters=bot.inbox.adapters, webhook_secret=secret)
        client: Client = TestClient(TestServer(app))
        await client.start_server()
        clients.append(client)
        return client

    yield make
    for client in clients:
        await client.close()


async def _keys(db: Database) -> list[str]:
    async with db.session() as session:
        return list((await session.exec(select(InboxUpdate.key))).all())


async def test_the_same_update_twice_is_stored_and_handled_once(
    any_db: Database, make_client: Callable[..., Any]
) -> None:
    bot = Harness(any_db)
    client = await make_client(bot)
    update = message("/start", update_id=42)

    for _ in range(2):
        response = await client.post(URL, json=update, headers=GOOD)
        assert response.status == 200
    await bot.inbox.process_pending()
    await bot.inbox.process_pending()

    assert await _keys(any_db) == ["42"]
    assert len(bot.platform.sent) == 1  # one welcome, not two


@pytest.mark.parametrize(
    "headers", [{}, {"X-Telegram-Bot-Api-Secret-Token": "wrong"}, {"X-Other": SECRET}]
)
async def test_a_wrong_secret_is_refused_and_nothing_is_stored(
    db: Database, make_client: Callable[..., Any], headers: dict[str, str]
) -> None:
    client = await make_client(Harness(db))
    response = await client.post(URL, json=message("/start"), headers=headers)
    assert response.status == 403
    assert await _keys(db) == []


async def test_the_secret_is_checked_before_the_size(
    db: Database, make_client: Callable[..., Any]
) -> None:
    client = await make_client(Harness(db))
    response = await client.post(URL, data=b"x" * (2 << 20), headers={"X-Other": "1"})
    assert response.status == 403


async def test_without_a_configured_secret_every_call_is_refused(
    db: Database, make_client: Callable[..., Any]
) -> None:
    client = await make_client(Harness(db), secret=None)
    response = await client.post(URL, json=message("/start"), headers=GOOD)
    assert response.status == 403
    assert await _keys(db) == []


@pytest.mark.parametrize(
    "body",
    [b"{not json", b"\xff\xfe", b"[1, 2]", b'"update"', b'{"message": {}}', b'{"update_id": "7"}'],
)
async def test_bad_bodies_are_400(
    db: Database, make_client: Callable[..., Any], body: bytes
) -> None:
    client = await make_client(Harness(db))
    headers = GOOD | {"Content-Type": "application/json"}
    response = await client.post(URL, data=body, headers=headers)
    assert response.status == 400
    assert await _keys(db) == []


async def test_a_body_over_one_mebibyte_is_413(
    db: Database, make_client: Callable[..., Any]
) -> None:
    client = await make_client(Harness(db))
    big = json.dumps(message("x" * (1 << 20), update_id=1)).encode()
    response = await client.post(URL, data=big, headers=GOOD)
    assert response.status == 413

    async def chunked() -> AsyncIterator[bytes]:  # no Content-Length: counted while read
        for _ in range(20):
            yield b" " * (64 * 1024)

    response = await client.post(URL, data=chunked(), headers=GOOD)
    assert response.status == 413
    assert await _keys(db) == []

    just_fits = json.dumps(message("y" * ((1 << 20) - 500), update_id=2)).encode()
    assert len(just_fits) <= 1 << 20
    response = await client.post(URL, data=just_fits, headers=GOOD)
    assert response.status == 200


async def test_an_unknown_update_type_is_200_and_ignored(
    db: Database, make_client: Callable[..., Any]
) -> None:
    bot = Harness(db)
    client = await make_client(bot)
    update = {"update_id": 9, "business_connection": {"id": "b1"}}
    response = await client.post(URL, json=update, headers=GOOD)
    assert response.status == 200

    assert await bot.inbox.process_pending() == 1
    assert bot.platform.sent == [] and bot.platform.answers == []


async def test_database_down_answers_5xx_so_the_platform_retries(
    tmp_path: Path, make_client: Callable[..., Any]
) -> None:
    down = Database(f"sqlite+aiosqlite:///{tmp_path / 'no' / 'such' / 'dir' / 'loa.db'}")
    try:
        client = await make_client(Harness(down))
        response = await client.post(URL, json=message("/start"), headers=GOOD)
        assert response.status == 500
        health = await client.get("/healthz")
        assert health.status == 503
        assert (await health.json())["status"] == "error"
    finally:
        await down.dispose()


async def test_healthz(db: Database, make_client: Callable[..., Any]) -> None:
    client = await make_client(Harness(db))
    response = await client.get("/healthz")
    assert response.status == 200
    assert await response.json() == {"status": "ok", "db": "ok"}


async def test_zalo_webhooks_exist_only_with_their_adapters(
    db: Database, make_client: Callable[..., Any]
) -> None:
    client = await make_client(Harness(db))
    for path in ("/webhook/zalo-bot", "/webhook/zalo-oa"):
        response = await client.post(path, json={}, headers=GOOD)
        assert response.status == 404
    assert Platform.ZALO_BOT not in Harness(db).inbox.adapters


async def test_zalo_routes_check_their_own_header_or_refuse(db: Database) -> None:
    bot = Harness(db)
    adapters = {Platform.ZALO_BOT: FakePlatform(), Platform.ZALO_OA: FakePlatform()}
    inbox = Inbox(db, adapters, bot.inbox.router)
    app = create_web_app(inbox=inbox, adapters=adapters, webhook_secret=SECRET)
    async with TestClient(TestServer(app)) as client:
        update = {"update_id": 1}
        bot_url = "/webhook/zalo-bot"
        assert (await client.post(bot_url, json=update, headers=GOOD)).status == 403
        ok = await client.post(bot_url, json=update, headers={"X-Bot-Api-Secret-Token": SECRET})
        assert ok.status == 200
        # Zalo OA signs its calls: without a verifier configured, nothing gets in
        oa = await client.post("/webhook/zalo-oa", json={"update_id": 2}, headers=GOOD)
        assert oa.status == 403
    assert await _keys(db) == ["1"]


async def test_webhook_logs_carry_no_text(
    db: Database, make_client: Callable[..., Any], caplog: pytest.LogCaptureFixture
) -> None:
    marker = "BÍMẬT-c41e"
    caplog.set_level(logging.DEBUG)
    client = await make_client(Harness(db))
    await client.post(URL, json=message(marker, name=marker), headers=GOOD)
    await client.post(URL, json=message(marker, name=marker, update_id=5), headers=GOOD)
    await client.post(URL, json=message(marker, name=marker, update_id=5), headers=GOOD)
    await client.post(URL, data=("{" + marker).encode(), headers=GOOD)
    await client.post(URL, json={"text": marker}, headers=GOOD)
    await client.post(
        URL, json=message(marker), headers={"X-Telegram-Bot-Api-Secret-Token": marker}
    )

    assert "update 5 duplicate" in caplog.text
    assert marker not in caplog.text
