"""Sandbox mode's fictional ward: schools, parent and staff groups with simulated members,
and a sample item due one minute after start."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import timedelta
from itertools import cycle, islice
from pathlib import Path
from typing import Any

import yaml
from sqlmodel import select

from bot.domain import Button, Platform
from bot.platforms.base import PlatformAdapter
from bot.sandbox.client import SandboxClient
from bot.services.broadcasts import Broadcast
from bot.storage.db import Database
from bot.storage.models import Chat, Unit, utcnow

WARD_FILE = Path(__file__).resolve().parents[2] / "content" / "demo" / "ward.yaml"


@dataclass(frozen=True)
class DemoWard:
    parent_chat_ids: list[int]  # loa's Chat ids
    sample: Broadcast


async def seed(
    db: Database,
    sandbox_url: str,
    adapter: PlatformAdapter,
    bot_user_id: int,
    render: Any,
    ward_file: Path = WARD_FILE,
) -> DemoWard:
    """Build the demo ward in the (in-memory) sandbox and bind its groups in the database.

    The sandbox forgets everything when it stops, so this runs at every sandbox-mode start;
    units and chats already in the database are found again by their codes and titles.
    """
    spec = yaml.safe_load(await asyncio.to_thread(ward_file.read_text, encoding="utf-8"))
    ward = await _unit(db, spec["ward"]["code"], spec["ward"]["name"], "ward", None)
    parent_chats: list[int] = []
    async with SandboxClient(sandbox_url) as sandbox:
        people = [await sandbox.create_user(name) for name in spec["people"]]
        members = cycle(people)
        for school in spec["schools"]:
            unit = await _unit(db, school["code"], school["name"], "school", ward)
            groups = [(school["staff_group"], "teachers")] + [
                (title, "parents") for title in school["parent_groups"]
            ]
            for title, audience in groups:
                chosen = list(islice(members, spec["members_per_group"]))
                chat = await sandbox.create_chat(title, members=chosen)
                await sandbox.add_member(chat, bot_user_id, by_user_id=chosen[0])
                size = await adapter.member_count(str(chat)) - 1  # the bot is not audience
                chat_id = await _bind(db, str(chat), title, unit, audience, size)
                if audience == "parents":
                    parent_chats.append(chat_id)
    post = spec["sample_post"]
    start = utcnow()
    due = start + timedelta(seconds=post["delay_seconds"])
    sample = Broadcast(
        key=f"demo:sample:{due:%Y%m%dT%H%M%S}",
        title=post["title"],
        text=render(post["template"], ward_name=spec["ward"]["name"]),
        buttons=tuple(Button(b["label"], b["data"]) for b in post["buttons"]),
        due_at=due,
        valid_until=start + timedelta(hours=post["valid_hours"]),
        urgent=bool(post.get("urgent", False)),
    )
    return DemoWard(parent_chats, sample)


async def _unit(db: Database, code: str, name: str, kind: str, parent: int | None) -> int:
    async with db.session() as session:
        unit = (await session.exec(select(Unit).where(Unit.code == code))).first()
        if unit is None:
            unit = Unit(code=code, name=name, kind=kind, parent_id=parent)
            session.add(unit)
            await session.commit()
        assert unit.id is not None
        return unit.id


async def _bind(
    db: Database, platform_chat_id: str, title: str, unit: int, audience: str, size: int
) -> int:
    async with db.session() as session:
        query = select(Chat).where(Chat.unit_id == unit, Chat.title == title)
        chat = (await session.exec(query)).first()
        if chat is None:
            chat = Chat(
                platform=Platform.TELEGRAM,
                platform_chat_id=platform_chat_id,
                type="group",
                title=title,
                unit_id=unit,
                audience=audience,
            )
            session.add(chat)
        chat.platform_chat_id, chat.active = platform_chat_id, True
        chat.member_count, chat.member_count_at = size, utcnow()
        await session.commit()
        assert chat.id is not None
        return chat.id
