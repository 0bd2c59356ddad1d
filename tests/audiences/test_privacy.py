"""The privacy notice, /toi, and /xoadulieu: nothing left that names the person, and every
count of past posts unchanged."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event, func, text
from sqlmodel import SQLModel, col, select

from bot.delivery.sender import ChannelSender
from bot.domain import Button, Platform
from bot.services import invites, privacy
from bot.services.broadcasts import Broadcast, enqueue
from bot.storage.db import Database
from bot.storage.models import Chat, Delivery, Feedback, Throttle
from tests.chatworld import BOT_ID, World, chat_world

NAME = "Nguyễn Thị Riêng Tư"


async def test_the_notice_comes_once_on_a_first_private_contact(world: World) -> None:
    user = await world.sandbox.create_user("Chị Mai")
    await world.sandbox.create_chat("", type="private", user_id=user)
    await world.sandbox.add_member(user, BOT_ID)
    first = await world.say(user, "chào loa")
    assert [m.split("\n")[0] for m in first] == ["Về dữ liệu cá nhân", first[1].split("\n")[0]]
    assert "/xoadulieu" in first[0] and "/toi" in first[0]
    again = await world.say(user, "chào loa")
    assert len(again) == 1 and not again[0].startswith("Về dữ liệu cá nhân")


async def test_toi_shows_what_is_kept(world: World) -> None:
    teacher = await world.person("Cô Hạnh")
    await world.grant(teacher, "teacher", "th-a-1a")
    [kept] = await world.say(teacher, "/toi")
    assert kept.startswith("loa đang lưu về bạn")
    assert "Tên hiển thị: Cô Hạnh" in kept and "giáo viên, Lớp 1A" in kept


async def reach(world: World) -> list[Any]:
    """Per occurrence: deliveries sent, people reached, acknowledgements."""
    async with world.db.engine.connect() as conn:
        sent = await conn.execute(
            select(Delivery.occurrence_id, func.count(), func.sum(Delivery.audience_size))
            .where(Delivery.status == "sent")
            .group_by(col(Delivery.occurrence_id))
        )
        acks = await conn.execute(
            select(Feedback.occurrence_id, Feedback.kind, func.count()).group_by(
                col(Feedback.occurrence_id), col(Feedback.kind)
            )
        )
        return [sorted(map(tuple, sent.all())), sorted(map(tuple, acks.all()))]


async def traces(world: World, user_id: int, name: str) -> list[str]:
    """Every cell of every table that holds the person's platform id or name."""
    found = []
    async with world.db.engine.connect() as conn:
        for table in SQLModel.metadata.sorted_tables:
            for row in (await conn.execute(text(f"SELECT * FROM {table.name}"))).mappings():
                for column, value in row.items():
                    raw = value if isinstance(value, str) else json.dumps(value, default=str)
                    if raw == str(user_id) or str(user_id) in raw or name in raw:
                        found.append(f"{table.name}.{column}")
    return found


async def test_erasure_leaves_no_trace_and_keeps_the_counts(world: World) -> None:
    me = await world.person(NAME)
    await world.grant(me, "teacher", "th-a-1a")
    await world.say(me, "/moi phuhuynh th-a-1a")  # an invite she made
    other = await world.person("Anh Minh")
    group = await world.group("Phụ huynh lớp 1A", [me, other])
    await world.add_bot(group, by=me)
    class_a = await world.unit("th-a-1a")
    await world.press(group, me, f"bind:1:p:{class_a}")
    await world.press(group, me, f"bind:1:a:{class_a}:parents")
    await world.say(me, invites.new_code())  # a wrong code: counted under a hash of her id

    # A post reaches the group and her private chat; she and another parent acknowledge it.
    async with world.db.session() as session:
        chats = (await session.exec(select(Chat.id))).all()
    item = Broadcast(
        key="nq71", title="NQ71", text="NQ71", buttons=(Button("Đã hiểu", "ack:{occurrence}"),)
    )
    occurrence = await enqueue(world.db, item, [c for c in chats if c is not None])
    stop = asyncio.Event()
    sender = asyncio.create_task(ChannelSender(world.db, world.adapter, rate_per_s=0).run(stop))
    async with asyncio.timeout(10):
        while len([m for m in await world.bot_messages(group) if m["text"] == "NQ71"]) < 1:
            await asyncio.sleep(0.02)
    stop.set()
    await sender
    for person in (me, other):
        await world.press(group, person, f"ack:{occurrence}")
    before = await reach(world)
    assert before[1] == [(occurrence, "ack", 2)]
    assert await traces(world, me, NAME), "before erasure she is there, of course"

    [ask] = await world.say(me, "/xoadulieu")
    assert ask.startswith("Xóa dữ liệu của bạn?")
    assert [label for label, _ in await world.last_buttons(me)] == [
        "Xóa dữ liệu của tôi",
        "Không, giữ lại",
    ]
    await world.press(me, me, "erase:yes")
    [done] = [m["text"] for m in await world.bot_messages(me)][-1:]
    assert done.startswith("Đã xóa dữ liệu của bạn.")

    assert await traces(world, me, NAME) == []
    assert await reach(world) == before
    async with world.db.session() as session:
        assert len((await session.exec(select(Throttle))).all()) == 1, "her count stays"
    # Writing again is meeting loa again: the notice, and nothing of the past.
    notice, kept = await world.say(me, "/toi")
    assert notice.startswith("Về dữ liệu cá nhân")
    assert "Vai trò: chưa có" in kept and "0 lần bấm «Đã hiểu»" in kept
    async with world.db.session() as session:
        chat = (await session.exec(select(Chat).where(Chat.type == "group"))).one()
    assert chat.unit_id == class_a, "the group she bound stays bound"


async def test_cancelling_keeps_everything(world: World) -> None:
    me = await world.person(NAME)
    await world.grant(me, "parent", "th-a-1a")
    await world.say(me, "/xoadulieu")
    await world.press(me, me, "erase:no")
    assert (await world.bot_messages(me))[-1]["text"].startswith("Đã hủy")
    assert await world.person_id(me) is not None


async def test_erasure_leaves_nothing_in_the_sqlite_files(sqlite_world: World) -> None:
    world, phone, address = sqlite_world, "0912 468 357", "ngõ Bí Mật số 7"
    me = await world.person(NAME)
    await world.say(me, f"Số của tôi là {phone}")
    # She writes again, and erases herself before loa has handled it.
    await world.sandbox.write(me, me, f"Nhà tôi ở {address}")
    for raw in await world.adapter.poll(0):
        await world.inbox.accept(Platform.TELEGRAM, raw)
    secrets = (NAME, phone, address, str(me))
    assert on_disk(world.db, secrets) == list(secrets)

    assert await privacy.erase(world.db, "telegram", str(me))
    await world.pump()
    assert on_disk(world.db, secrets) == []


def on_disk(db: Database, secrets: tuple[str, ...]) -> list[str]:
    """The secrets found, as UTF-8 or as JSON escapes them, in the bytes of the database file,
    its write-ahead log or the log's index."""
    path = Path(db.url.removeprefix("sqlite+aiosqlite:///"))
    files = [path, Path(f"{path}-wal"), Path(f"{path}-shm")]
    data = [f.read_bytes() for f in files if f.exists()]
    forms = {s: (s.encode(), json.dumps(s)[1:-1].encode()) for s in secrets}
    return [s for s in secrets if any(form in d for form in forms[s] for d in data)]


@pytest.fixture
async def sqlite_world(tmp_path: Path) -> AsyncIterator[World]:
    """A world on an SQLite file, as if SQLite were built without secure_delete by default
    (this machine's may not be)."""
    db = Database(f"sqlite+aiosqlite:///{tmp_path / 'loa.db'}")
    event.listen(db.engine.sync_engine, "connect", _secure_delete_off, insert=True)
    async with db.engine.begin() as conn:
        await conn.run_sync(SQLModel.metadata.create_all)
    async with chat_world(db) as w:
        yield w
    await db.dispose()


def _secure_delete_off(dbapi_connection: Any, _record: Any) -> None:
    dbapi_connection.cursor().execute("PRAGMA secure_delete=OFF")


@pytest.fixture
def world(any_world: World) -> World:
    """These tests run on both engines."""
    return any_world
