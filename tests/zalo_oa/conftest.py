"""Fixtures: an in-process sandbox with its Zalo OA, followers, and the adapter pointed at it."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime

import pytest

from bot.platforms.zalo_oa import GROUP, ZaloOaAdapter
from bot.sandbox import Sandbox
from bot.sandbox.state import Chat, User
from bot.sandbox.zalo_oa_api import APP_ID, FIRST_REFRESH_TOKEN, OA_ID, SECRET_KEY
from bot.services.zalo_oa_store import ZaloOaStore
from bot.storage.db import Database


@pytest.fixture
async def sandbox() -> AsyncIterator[Sandbox]:
    async with Sandbox() as sb:
        yield sb


def follower(sb: Sandbox, name: str = "Phụ huynh") -> User:
    """A new sandbox user who follows the OA."""
    user = User(sb.state.new_user_id(), name)
    sb.state.users[user.id] = user
    sb.zalo_oa.follow(user)
    return user


def oa_group(sb: Sandbox, members: int) -> str:
    """A GMF group with `members` people and the OA; its loa chat id."""
    chat = Chat(id=sb.state.new_group_id(), platform="zalo_oa", type="group", title="Nhóm OA")
    for _ in range(members):
        user = User(sb.state.new_user_id(), "Thành viên")
        sb.state.users[user.id] = user
        chat.members[user.id] = "member"
    chat.members[OA_ID] = "member"
    sb.state.chats[chat.id] = chat
    return f"{GROUP}{chat.id}"


class Clock:
    def __init__(self) -> None:
        self.now = datetime.now(UTC)

    def __call__(self) -> datetime:
        return self.now


MakeAdapter = Callable[..., ZaloOaAdapter]


@pytest.fixture
async def make_adapter(sandbox: Sandbox) -> AsyncIterator[MakeAdapter]:
    made: list[ZaloOaAdapter] = []

    def make(db: Database, **options: object) -> ZaloOaAdapter:
        settings: dict[str, object] = {
            "app_id": APP_ID,
            "secret_key": SECRET_KEY,
            "refresh_token": FIRST_REFRESH_TOKEN,
            "api_url": f"{sandbox.url}/zalo-oa",
            "oauth_url": f"{sandbox.url}/zalo-oa",
            **options,
        }
        adapter = ZaloOaAdapter(ZaloOaStore(db, APP_ID), **settings)  # type: ignore[arg-type]
        made.append(adapter)
        return adapter

    yield make
    for adapter in made:
        await adapter.stop()
