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

from bot.dispatch import Dispatcher
from bot.domain import Platform
from bot.inbox import Inbox
from bot.storage.db import Database
from bot.storage.models import InboxUpdate, Person
from bot.web import create_web_app
from handlers import build_router
from tests.handlers.fakes import FakePlatform, Harness, message, templates
from tests.platforms.parsing import ParsingPlatform

SECRET = "s3cret_token-1"
GOOD = {"X-Telegram-Bot-Api-Secret-Token": SECRET}
URL = "/webhook/telegram"

Client = TestClient[Any, Any]


@pytest.fixture
async def make_client() -> AsyncIterator[Callable[..., Any]]:
    clients: list[Client] = []

    async def make(bot: Harness, secret: str | None = SECRET, inbox: Inbox | None = None) -> Client:
        inbox = inbox or bot.inbox
        app = create_web_app(inbox=inbox, adapters=inbox.adapters, webhook_secret=secret)
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
    assert await response.json() == {"status": "ok", "db": "ok", "inbox": "ok"}


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


# --- what a hostile sender can put in a body ----------------------------------------------------


def _parsing_inbox(db: Database) -> tuple[Inbox, ParsingPlatform]:
    platform = ParsingPlatform()
    dispatcher = Dispatcher(build_router(), db=db, templates=templates())
    inbox = Inbox(db, {Platform.TELEGRAM: platform}, dispatcher)
    return inbox, platform


@pytest.mark.parametrize(
    "body",
    [
        b"[" * 100_000,
        b'{"update_id": 1, "message": ' + b"[" * 100_000 + b"]" * 100_000 + b"}",
        b'{"update_id": 1, "x": ' + b'{"a": ' * 100 + b"0" + b"}" * 100 + b"}",
        b'{"update_id": NaN}',
        b'{"update_id": 1, "message": {"text": NaN}}',
        b'{"update_id": 1, "message": {"date": -Infinity}}',
        b'{"update_id": 1, "message": {"date": 1e999}}',
        b'{"update_id": 1' + b"0" * 128 + b"}",
        b'{"update_id": 1' + b"0" * 5000 + b"}",
        b'{"update_id": -1}',
        b'{"update_id": 1.0}',
    ],
)
async def test_malformed_bodies_are_400_without_a_traceback(
    any_db: Database,
    make_client: Callable[..., Any],
    caplog: pytest.LogCaptureFixture,
    body: bytes,
) -> None:
    inbox, _ = _parsing_inbox(any_db)
    client = await make_client(Harness(any_db), inbox=inbox)
    response = await client.post(URL, data=body, headers=GOOD)
    assert response.status == 400
    assert await _keys(any_db) == []
    assert "Traceback" not in caplog.text and "Error" not in caplog.text


async def test_a_sender_with_nul_and_lone_surrogates_in_every_field_is_answered(
    any_db: Database, make_client: Callable[..., Any]
) -> None:
    """On PostgreSQL such an update used to fail three times and be given up on: the person
    could never use the bot."""
    inbox, platform = _parsing_inbox(any_db)
    client = await make_client(Harness(any_db), inbox=inbox)
    hostile = "\\u0000Lan\\u0007\\ud800 Nguy\\u1ec5n\\udc00\\u009b"
    body = (
        '{"update_id": 9, "message": {"message_id": 3, "date": 0, "text": "/start\\u0000",'
        f' "chat": {{"id": 7, "type": "private", "first_name": "{hostile}"}},'
        f' "from": {{"id": 7, "is_bot": false, "first_name": "{hostile}",'
        f' "last_name": "{hostile}", "username": "{hostile}"}}}}}}'
    )
    response = await client.post(URL, data=body.encode(), headers=GOOD)
    assert response.status == 200
    await inbox.process_pending()

    assert len(platform.sent) == 1  # the welcome
    async with any_db.session() as session:
        names = (await session.exec(select(Person.display_name))).all()
        errors = (await session.exec(select(InboxUpdate.error))).all()
    assert names == ["Lan� Nguyễn� Lan� Nguyễn�"] and errors == [None]
