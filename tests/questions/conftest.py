"""A ward with two schools: a parent of class 1A, a teacher of each school, an official."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass

import pytest
from sqlmodel import col, select

from bot.domain import OutboundMessage
from bot.storage.db import Database
from bot.storage.models import FeedbackItem
from tests.chatworld import World, chat_world


@pytest.fixture
async def world(any_db: Database) -> AsyncIterator[World]:
    async with chat_world(any_db) as w:
        yield w


@dataclass
class Ward:
    parent: int  # a parent of class 1A (role held), in the 1A parents' group
    teacher_a: int
    teacher_b: int
    official: int
    group_a: int  # the parents' group of class 1A, bound


@pytest.fixture
async def ward(world: World) -> Ward:
    parent = await world.person("Phụ huynh Lan")
    await world.grant(parent, "parent", "th-a-1a")
    staff: list[int] = []
    for name, role, unit in (
        ("Cô Hoa", "teacher", "th-a"),
        ("Thầy Nam", "teacher", "th-b"),
        ("Anh Hùng", "official", "phuong-a"),
    ):
        user = await world.person(name)
        await world.grant(user, role, unit)
        staff.append(user)
    group = await world.bound_group("Phụ huynh 1A", "th-a-1a", "parents", [parent])
    teacher_a, teacher_b, official = staff
    return Ward(parent, teacher_a, teacher_b, official, group)


async def loa_posts(world: World, group: int, text: str = "Họp phụ huynh thứ bảy") -> int:
    """A message loa itself sent to the group (one of its posts); its message id."""
    sent = await world.adapter.send(OutboundMessage(str(group), text))
    await world.news(group)  # read: what follows is loa's answer
    return int(sent.message_id)


async def items(world: World) -> list[FeedbackItem]:
    async with world.db.session() as session:
        query = select(FeedbackItem).order_by(col(FeedbackItem.id))
        return list((await session.exec(query)).all())
