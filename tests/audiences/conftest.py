"""A ward with two schools in the sandbox, and people to act in it."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from bot.storage.db import Database
from tests.chatworld import World, chat_world


@pytest.fixture
async def world(db: Database) -> AsyncIterator[World]:
    async with chat_world(db) as w:
        yield w


@pytest.fixture
async def any_world(any_db: Database) -> AsyncIterator[World]:
    """`world` on SQLite and on PostgreSQL."""
    async with chat_world(any_db) as w:
        yield w
