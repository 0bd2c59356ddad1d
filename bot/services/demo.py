"""Sandbox mode's fictional ward: parent and staff groups with simulated members, bound to the
units of content/units.yaml, invite codes for two officials (one composes, one approves), and a
sample item due one minute after
start."""

from __future__ import annotations

import asyncio
import logging
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
from bot.services import invites
from bot.services.broadcasts import Broadcast
from bot.services.units import ids_by_code
from bot.storage.db import Database
from bot.storage.models import Chat, RoleName, utcnow

log = logging.getLogger(__name__)
WARD_FILE = Path(__file__).resolve().parents[2] / "content" / "demo" / "ward.yaml"


@dataclass(frozen=True)
class DemoWard:
    parent_chat_ids: list[int]  # loa's Chat ids
    sample: Broadcast
    officials: list[tuple[str, str]]  # (sandbox name, invite code): to try the staff commands


async def seed(
    db: Database,
    sandbox_url: str,
    adapter: PlatformAdapter,
    bot_user_id: int,
    render: Any,
    ward_file: Path = WARD_FILE,
) -> DemoWard:
    """Build the demo groups in the (in-memory) sandbox and bind them to their units (from
    content/units.yaml, synced before this runs).

    The sandbox forgets everything when it stops, so this runs at every sandbox-mode start;
    chats already in the database are found again by unit and title.
    """
    spec = yaml.safe_load(await asyncio.to_thread(ward_file.read_text, encoding="utf-8"))
    async with db.session() as session:
        codes = [g["unit"] for g in spec["groups"]] + [spec["official_unit"]]
        units = await ids_by_code(session, codes)
    missing = sorted({g["unit"] for g in spec["groups"]} - set(units))
    if missing:
        log.warning("demo: %d group(s) left out, their units are not in units.yaml", len(missing))
    parent_chats: list[int] = []
    async with SandboxClient(sandbox_url) as sandbox:
        people = [await sandbox.create_user(name) for name in spec["people"]]
        members = cycle(people)
        for group in spec["groups"]:
            if group["unit"] not in units:
                continue
            chosen = list(islice(members, spec["members_per_group"]))
            chat = await sandbox.create_chat(group["title"], members=chosen)
            await sandbox.add_member(chat, bot_user_id, by_user_id=chosen[0])
            size = await adapter.member_count(str(chat))
            unit, audience = units[group["unit"]], group["audience"]
            chat_id = await _bind(db, str(chat), group["title"], unit, audience, size)
            if audience == "parents":
                parent_chats.append(chat_id)
        # People to try the staff commands as: private chats with the bot, awaiting a code.
        names = spec["officials"] if spec["official_unit"] in units else []
        for name in names:
            user = await sandbox.create_user(name)
            await sandbox.create_chat("", type="private", user_id=user)
            await sandbox.add_member(user, bot_user_id)
    officials: list[tuple[str, str]] = []
    async with db.session() as session:
        for name in names:
            _, code = await invites.create(
                session, RoleName.OFFICIAL, units[spec["official_unit"]], None, days=1
            )
            officials.append((name, code))
        await session.commit()
    post = spec["sample_post"]
    start = utcnow()
    due = start + timedelta(seconds=post["delay_seconds"])
    sample = Broadcast(
        key=f"demo:sample:{due:%Y%m%dT%H%M%S}",
        title=post["title"],
        text=render(post["template"], ward_name=post["ward_name"]),
        buttons=tuple(Button(b["label"], b["data"]) for b in post["buttons"]),
        due_at=due,
        valid_until=start + timedelta(hours=post["valid_hours"]),
        urgent=bool(post.get("urgent", False)),
    )
    return DemoWard(parent_chats, sample, officials)


async def _bind(
    db: Database, platform_chat_id: str, title: str, unit: int, audience: str, size: int
) -> int:
    async with db.session() as session:
        query = select(Chat).where(Chat.unit_id == unit, Chat.title == title)
        chat = (await session.exec(query)).first()
        # loa may have met the new sandbox group already (the bot was added to it): that row
        # is unbound and nothing refers to it yet, so the demo's bound row takes its id.
        query = select(Chat).where(
            Chat.platform == Platform.TELEGRAM, Chat.platform_chat_id == platform_chat_id
        )
        met = (await session.exec(query)).first()
        if met is not None and chat is not None and met.id != chat.id:
            await session.delete(met)
            await session.flush()
        chat = chat or met
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
        chat.unit_id, chat.audience, chat.title = unit, audience, title
        chat.member_count, chat.member_count_at = size, utcnow()
        await session.commit()
        assert chat.id is not None
        return chat.id
