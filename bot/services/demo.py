"""Sandbox mode's fictional ward: parent and staff groups with simulated members, bound to the
units of content/units.yaml (on Telegram, and a Zalo Bot group of parents in a unit whose staff
are on Telegram), invite codes for two officials (one composes, one approves) and one on Zalo,
a school principal, and what the demo sends minutes after start: a resolution summary to
acknowledge, its quiz, an English-club notice to RSVP, and a "06 rõ" task reminder."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from itertools import cycle, islice
from pathlib import Path
from typing import Any

import yaml
from sqlmodel import select

from bot.domain import Audience, ChatType, Platform
from bot.platforms.base import PlatformAdapter
from bot.sandbox.client import SandboxClient
from bot.services import invites, tasks
from bot.services.broadcasts import Broadcast
from bot.services.campaigns import Targets, answer_meta
from bot.services.units import ids_by_code
from bot.storage.db import Database
from bot.storage.models import Chat, Person, Role, RoleName, Task, utcnow
from content.campaign.render import render
from content.campaign.schema import VN, Post
from content.templates import Templates

log = logging.getLogger(__name__)
WARD_FILE = Path(__file__).resolve().parents[2] / "content" / "demo" / "ward.yaml"


@dataclass(frozen=True)
class DemoWard:
    items: list[tuple[Broadcast, list[int] | Targets]]  # what to schedule, and for whom
    officials: list[tuple[str, str]]  # (sandbox name, invite code): to try the staff commands
    staff: list[tuple[str, RoleName]]  # sandbox names with a role from the start
    # Zalo Bot: (sandbox name, invite code) of officials there, the titles of its groups
    zalo_officials: list[tuple[str, str]] = field(default_factory=list)
    zalo_groups: list[str] = field(default_factory=list)


async def seed(
    db: Database,
    sandbox_url: str,
    adapters: Mapping[Platform, PlatformAdapter],
    templates: Templates,
    ward_file: Path | None = None,
) -> DemoWard:
    """Build the demo groups in the (in-memory) sandbox and bind them to their units (from
    content/units.yaml, synced before this runs). A group's `platform` (telegram unless said)
    must be among `adapters`, else it is left out.

    The sandbox forgets everything when it stops, so this runs at every sandbox-mode start;
    chats already in the database are found again by unit and title.
    """
    path = ward_file or WARD_FILE
    spec = yaml.safe_load(await asyncio.to_thread(path.read_text, encoding="utf-8"))
    task_spec = spec["task"]
    async with db.session() as session:
        codes = [g["unit"] for g in spec["groups"]] + [p["unit"] for p in spec["staff"]]
        codes += [spec["official_unit"], task_spec["owner_unit"]]
        units = await ids_by_code(session, codes)
    bots = {p: _bot_id(a) for p, a in adapters.items()}
    bot_user_id = bots[Platform.TELEGRAM]
    missing = sorted({g["unit"] for g in spec["groups"]} - set(units))
    if missing:
        log.warning("demo: %d group(s) left out, their units are not in units.yaml", len(missing))
    parent_chats: list[int] = []
    staff: list[tuple[str, RoleName, int, int]] = []  # name, role, unit, sandbox user
    async with SandboxClient(sandbox_url) as sandbox:
        people = [await sandbox.create_user(name) for name in spec["people"]]
        members = cycle(people)
        zalo_groups: list[str] = []
        for group in spec["groups"]:
            platform = Platform(group.get("platform", Platform.TELEGRAM))
            if group["unit"] not in units or platform not in adapters:
                continue
            chosen = list(islice(members, spec["members_per_group"]))
            if platform is Platform.TELEGRAM:
                chat = await sandbox.create_chat(group["title"], members=chosen)
                await sandbox.add_member(chat, bot_user_id, by_user_id=chosen[0])
            else:  # a Zalo group: the bot is there from the start, as its creator added it
                chat = await sandbox.create_chat(
                    group["title"], platform=platform, members=[*chosen, bots[platform]]
                )
                zalo_groups.append(group["title"])
            adapter = adapters[platform]
            size = (
                await adapter.member_count(str(chat)) if adapter.capabilities.member_count else None
            )
            unit, audience = units[group["unit"]], group["audience"]
            chat_id = await _bind(db, platform, str(chat), group["title"], unit, audience, size)
            if audience == Audience.parents:
                parent_chats.append(chat_id)
        # People to try the staff commands as: private chats with the bot, awaiting a code.
        names = spec["officials"] if spec["official_unit"] in units else []
        for name in names:
            await _private_chat_with_bot(sandbox, name, bot_user_id)
        zalo_names = [] if Platform.ZALO_BOT not in adapters else spec.get("zalo_officials", [])
        zalo_names = zalo_names if spec["official_unit"] in units else []
        for name in zalo_names:
            user = await sandbox.create_user(name)
            await sandbox.create_chat(
                "", type="private", platform=Platform.ZALO_BOT, user_id=user,
                members=[bots[Platform.ZALO_BOT]],
            )  # fmt: skip
        for person in spec["staff"]:
            if person["unit"] in units:
                user = await _private_chat_with_bot(sandbox, person["name"], bot_user_id)
                staff.append(
                    (person["name"], RoleName(person["role"]), units[person["unit"]], user)
                )
    officials: list[tuple[str, str]] = []
    zalo_officials: list[tuple[str, str]] = []
    async with db.session() as session:
        for name in [*names, *zalo_names]:
            _, code = await invites.create(
                session, RoleName.OFFICIAL, units[spec["official_unit"]], None, days=1
            )
            (officials if name in names else zalo_officials).append((name, code))
        await session.commit()
    start = utcnow()
    items: list[tuple[Broadcast, list[int] | Targets]] = [
        (_post(raw, spec["ward_name"], templates, start), parent_chats) for raw in spec["posts"]
    ]
    for name, role, unit, user in staff:
        await _grant(db, name, user, role, unit)
    if task_spec["owner_unit"] in units:
        unit = units[task_spec["owner_unit"]]
        items.append(await _task_reminder(db, task_spec, unit, templates, start))
    return DemoWard(
        items,
        officials,
        [(name, role) for name, role, *_ in staff],
        zalo_officials,
        zalo_groups,
    )


def _bot_id(adapter: PlatformAdapter) -> int:
    """The sandbox user id of the adapter's bot (known once it started)."""
    bot_id = getattr(adapter, "bot_id", None)
    if bot_id is None:
        raise RuntimeError(f"the {adapter.platform} adapter has not started")
    return int(bot_id)


def _post(raw: dict[str, Any], ward_name: str, templates: Templates, start: datetime) -> Broadcast:
    """A demo post as a campaign post due `after_seconds` past start, urgent (any hour)."""
    fields = {k: v for k, v in raw.items() if k != "after_seconds"}
    due = (start + timedelta(seconds=raw["after_seconds"])).astimezone(VN)
    fields["variables"] = {"ward_name": ward_name, **raw.get("variables", {})}
    post = Post.model_validate(
        {**fields, "audiences": ["parents"], "schedule": {"at": due}}, strict=False
    )
    shown = render(templates, post, "parents")
    return Broadcast(
        key=f"demo:{post.id}:{due:%Y%m%dT%H%M%S}",
        title=f"Minh họa ({post.id})",
        text=shown.text,
        buttons=shown.buttons,
        due_at=due,
        valid_until=due + timedelta(hours=post.valid_for or 72),
        urgent=True,
        kind=post.kind.value,
        meta=answer_meta(post, due),
        source=f"demo:{post.id}",
    )


async def _task_reminder(
    db: Database, spec: dict[str, Any], unit: int, templates: Templates, start: datetime
) -> tuple[Broadcast, Targets]:
    """A task of the school due in `deadline_days`, reminded `after_seconds` past start (a new
    task at each start: the sandbox's chats are new too)."""
    due = start + timedelta(seconds=spec["after_seconds"])
    async with db.session() as session:
        task = Task(
            key=f"demo:{due:%Y%m%dT%H%M%S}",
            plan="demo",
            title=spec["what"],
            owner_unit_id=unit,
            deadline=start + timedelta(days=spec["deadline_days"]),
            expected_result=spec["result"],
        )
        session.add(task)
        await session.commit()
        await session.refresh(task)
    assert task.id is not None
    item = replace(tasks.reminder(task, 0, templates), due_at=due, urgent=True)
    return item, tasks.recipients(db, task.id)


async def _private_chat_with_bot(sandbox: SandboxClient, name: str, bot_user_id: int) -> int:
    user = await sandbox.create_user(name)
    await sandbox.create_chat("", type="private", user_id=user)
    await sandbox.add_member(user, bot_user_id)
    return user


async def _grant(db: Database, name: str, user: int, role: RoleName, unit: int) -> None:
    async with db.session() as session:
        query = select(Person).where(
            Person.platform == Platform.TELEGRAM, Person.platform_user_id == str(user)
        )
        person = (await session.exec(query)).first()
        if person is None:
            person = Person(platform=Platform.TELEGRAM, platform_user_id=str(user))
            session.add(person)
        person.display_name = name
        await session.flush()
        assert person.id is not None
        query2 = select(Role).where(
            Role.person_id == person.id, Role.role == role, Role.unit_id == unit
        )
        if (await session.exec(query2)).first() is None:
            session.add(Role(person_id=person.id, role=role, unit_id=unit))
        await session.commit()


async def _bind(
    db: Database,
    platform: Platform,
    platform_chat_id: str,
    title: str,
    unit: int,
    audience: str,
    size: int | None,
) -> int:
    async with db.session() as session:
        query = select(Chat).where(Chat.unit_id == unit, Chat.title == title)
        chat = (await session.exec(query)).first()
        # loa may have met the new sandbox group already (the bot was added to it): that row
        # is unbound and nothing refers to it yet, so the demo's bound row takes its id.
        query = select(Chat).where(
            Chat.platform == platform, Chat.platform_chat_id == platform_chat_id
        )
        met = (await session.exec(query)).first()
        if met is not None and chat is not None and met.id != chat.id:
            await session.delete(met)
            await session.flush()
        chat = chat or met
        if chat is None:
            chat = Chat(
                platform=platform,
                platform_chat_id=platform_chat_id,
                type=ChatType.GROUP,
                title=title,
                unit_id=unit,
                audience=audience,
            )
            session.add(chat)
        chat.platform_chat_id, chat.active = platform_chat_id, True
        chat.unit_id, chat.audience, chat.title = unit, audience, title
        chat.member_count, chat.member_count_at = size, utcnow() if size is not None else None
        await session.commit()
        assert chat.id is not None
        return chat.id
