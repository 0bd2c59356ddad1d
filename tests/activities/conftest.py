"""The audiences' ward (two schools) for activity reports and models, on both engines."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from bot.storage.db import Database
from tests.chatworld import World, chat_world


@pytest.fixture
async def world(any_db: Database) -> AsyncIterator[World]:
    async with chat_world(any_db) as w:
        yield w


async def staff(world: World, name: str, role: str, unit: str) -> int:
    user = await world.person(name)
    await world.grant(user, role, unit)
    return user
