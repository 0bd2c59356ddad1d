"""kill -9 of the sender in the middle of a broadcast, then a restart."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from collections import Counter

import pytest
from sqlmodel import func, select

from bot.services.broadcasts import Broadcast, enqueue
from bot.storage import deliveries
from bot.storage.db import Database
from bot.storage.models import Chat, Delivery
from tests.delivery.conftest import TOKEN, World

CONCURRENCY = 16
CHATS = 2000


async def start_worker(db: Database, api_url: str) -> asyncio.subprocess.Process:
    env = {
        **os.environ,
        "LOA_DATABASE_URL": db.url,
        "LOA_TELEGRAM_TOKEN": TOKEN,
        "LOA_TELEGRAM_API_URL": api_url,
        "LOA_SENDER_CONCURRENCY": str(CONCURRENCY),
        "LOA_LOG_LEVEL": "WARNING",
        "LOA_TELEGRAM_RATE": "0",  # the sandbox here enforces no limit: go as fast as it can
    }
    return await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot.worker",
        env=env,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.PIPE,
    )


async def sent_so_far(db: Database) -> int:
    return (await deliveries.status_counts(db)).get("sent", 0)


async def in_flight(db: Database) -> int:
    async with db.session() as s:
        query = select(func.count()).where(Delivery.status == "in_flight")
        return int((await s.exec(query)).one())


@pytest.mark.fault
async def test_kill_9_mid_broadcast_then_restart(any_db: Database, world: World) -> None:
    db = any_db
    groups = await world.groups(db, CHATS)
    await enqueue(
        db, Broadcast(key="crash", title="NQ71", text="Tóm tắt <b>NQ 71</b>"), list(groups)
    )

    worker = await start_worker(db, world.url)
    async with asyncio.timeout(60):
        # Kill it a quarter of the way through, at a moment when sends are in flight.
        while await sent_so_far(db) < CHATS // 4 or await in_flight(db) == 0:
            await asyncio.sleep(0.005)
    worker.send_signal(signal.SIGKILL)
    await worker.wait()
    assert await sent_so_far(db) < CHATS, "the kill came too late to prove anything"
    left_in_flight = await in_flight(db)
    assert left_in_flight <= CONCURRENCY

    worker = await start_worker(db, world.url)
    try:
        async with asyncio.timeout(90):
            while True:
                counts = await deliveries.status_counts(db)
                if not any(counts.get(s) for s in ("pending", "retry_wait", "in_flight")):
                    break
                await asyncio.sleep(0.1)
    finally:
        worker.send_signal(signal.SIGTERM)
        _, stderr = await worker.communicate()
    assert worker.returncode == 0, stderr.decode()

    calls = [c for c in await world.sandbox.log(method="sendMessage") if c["status"] == 200]
    copies = Counter(str(c["chat_id"]) for c in calls)
    assert max(copies.values()) == 1, "a chat got two copies"
    async with db.session() as s:
        rows = (await s.exec(select(Chat.platform_chat_id, Delivery.status).join(Chat))).all()
    uncertain = {chat for chat, status in rows if status == "uncertain"}
    assert len(uncertain) == left_in_flight <= CONCURRENCY
    assert {status for _, status in rows} <= {"sent", "uncertain"}
    missing = {str(p) for p in groups.values()} - set(copies)
    assert missing <= uncertain, "a chat that was not in flight at the kill got no copy"
