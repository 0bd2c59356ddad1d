"""`loa bench …`: measured runs that print one JSON object. Counts come from the sandbox's
own log of the calls it received, not from the sender's opinion of what it sent."""

from __future__ import annotations

import asyncio
import contextlib
import resource
import socket
import sys
import tempfile
import time
from collections import Counter, defaultdict, deque
from collections.abc import AsyncIterator, Iterable
from pathlib import Path
from typing import Any

import aiohttp

from bot.app import SANDBOX_TOKEN
from bot.delivery.sender import ChannelSender
from bot.domain import Button
from bot.platforms.base import PlatformAdapter
from bot.platforms.telegram import TelegramAdapter
from bot.sandbox.client import SandboxClient
from bot.services.broadcasts import Broadcast, enqueue
from bot.storage import deliveries
from bot.storage.db import Database
from bot.storage.migrate import upgrade
from bot.storage.models import Chat, table_of, utcnow

UNFINISHED = ("pending", "retry_wait", "in_flight")


async def broadcast(
    *,
    chats: int,
    rate: float | None,
    api_url: str | None,
    db_url: str | None,
    concurrency: int,
) -> dict[str, Any]:
    """Send one item to `chats` new sandbox groups and check every copy arrived once."""
    async with _sandbox(api_url) as url, _database(db_url) as db, SandboxClient(url) as sandbox:
        await sandbox.reset()
        await sandbox.limits(global_per_s=rate or 0, group_per_min=0, private_per_s=0)
        bot_id = int(SANDBOX_TOKEN.split(":")[0])
        user = await sandbox.create_user("Phụ huynh thử tải")
        limit = asyncio.Semaphore(32)

        async def make(i: int) -> int:
            async with limit:
                return await sandbox.create_chat(f"Nhóm thử {i}", members=[user, bot_id])

        platform_ids = await asyncio.gather(*(make(i) for i in range(chats)))
        chat_ids = await _register(db, platform_ids)

        adapter = TelegramAdapter(SANDBOX_TOKEN, url, pool_size=concurrency * 2)
        since, counts = await send_one_item(db, adapter, chat_ids, concurrency, rate or 0)
        calls = await sandbox.log(method="sendMessage", since=since)

    ok = [c for c in calls if c["status"] == 200]
    # From the enqueue to the moment the sandbox received the last copy.
    seconds = max((c["t"] for c in ok), default=time.time()) - since
    per_chat = Counter(str(c["chat_id"]) for c in ok)
    sent = len(ok)
    return {
        "bench": "broadcast",
        "n": chats,
        "seconds": round(seconds, 3),
        "per_second": round(sent / seconds, 1) if seconds else 0.0,
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        "errors": sum(n for status, n in counts.items() if status not in ("sent",)),
        "sent": sent,
        "duplicates": sum(n - 1 for n in per_chat.values() if n > 1),
        "missing": sum(1 for p in platform_ids if per_chat[str(p)] == 0),
        "http_429": sum(1 for c in calls if c["status"] == 429),
        "max_per_second_window": _max_in_window((c["t"] for c in ok), 1.0),
        "max_per_group_per_minute": max(
            (_max_in_window(ts, 60.0) for ts in _by_chat(ok).values()), default=0
        ),
        "rate": rate,
        "concurrency": concurrency,
        "database": "postgresql" if db_url and db_url.startswith("postgresql") else "sqlite",
        "statuses": counts,
    }


async def send_one_item(
    db: Database, adapter: PlatformAdapter, chat_ids: list[int], concurrency: int, rate: float
) -> tuple[float, dict[str, int]]:
    """One item with a «Đã hiểu» button to `chat_ids`, through the adapter (started and stopped
    here) and loa's sender until no copy is left to send; when it was enqueued (epoch seconds,
    as the sandbox's log counts) and the deliveries' status counts."""
    await adapter.start()
    sender = ChannelSender(db, adapter, concurrency=concurrency, rate_per_s=rate)
    item = Broadcast(
        key=f"bench:{time.time_ns()}",
        title="Bench",
        text="<b>Thông báo thử</b>: họp phụ huynh lúc 8 giờ sáng Chủ nhật.",
        buttons=(Button("Đã hiểu", "ack:{occurrence}"),),
    )
    stop = asyncio.Event()
    since = time.time()
    await enqueue(db, item, chat_ids)
    sender.wake()  # as the scheduler does after it enqueues
    run = asyncio.create_task(sender.run(stop))
    counts = await _wait_until_done(db, run)
    stop.set()
    await run
    await adapter.stop()
    return since, counts


def _max_in_window(times: Iterable[float], width: float) -> int:
    """The most events in any half-open window (t - width, t]."""
    window: deque[float] = deque()
    best = 0
    for t in sorted(times):
        window.append(t)
        while window[0] <= t - width:
            window.popleft()
        best = max(best, len(window))
    return best


def _by_chat(calls: list[dict[str, Any]]) -> dict[str, list[float]]:
    grouped: dict[str, list[float]] = defaultdict(list)
    for c in calls:
        grouped[str(c["chat_id"])].append(c["t"])
    return grouped


async def _register(db: Database, platform_ids: list[int]) -> list[int]:
    rows = [
        {
            "platform": "telegram",
            "platform_chat_id": str(p),
            "type": "group",
            "title": f"Nhóm thử {i}",
            "audience": "staff",
            "active": True,
            "member_count": 1,
            "member_count_at": utcnow(),
        }
        for i, p in enumerate(platform_ids)
    ]
    table = table_of(Chat)
    async with db.engine.begin() as conn:
        result = await conn.execute(table.insert().returning(table.c.id), rows)
        return [int(i) for i in result.scalars()]


async def _wait_until_done(db: Database, run: asyncio.Task[None]) -> dict[str, int]:
    while True:
        await asyncio.sleep(0.25)
        counts = await deliveries.status_counts(db)
        if run.done() or not any(counts.get(s) for s in UNFINISHED):
            return counts


@contextlib.asynccontextmanager
async def _database(url: str | None) -> AsyncIterator[Database]:
    with tempfile.TemporaryDirectory(prefix="loa-bench-") as folder:
        url = url or f"sqlite+aiosqlite:///{Path(folder) / 'bench.db'}"
        await upgrade(url)
        db = Database(url)
        try:
            yield db
        finally:
            await db.dispose()


@contextlib.asynccontextmanager
async def _sandbox(api_url: str | None) -> AsyncIterator[str]:
    """A running sandbox: the one given, or a new one in its own process (so that it does not
    share this process's CPU core and event loop with the sender being measured)."""
    if api_url:
        yield api_url.rstrip("/")
        return
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot.sandbox",
        "--port",
        str(port),
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        await _wait_ready(url)
        yield url
    finally:
        process.terminate()
        await process.wait()


async def _wait_ready(url: str, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    async with aiohttp.ClientSession() as session:
        while True:
            try:
                async with session.get(f"{url}/sandbox/api/chats") as response:
                    if response.status == 200:
                        return
            except aiohttp.ClientError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"the sandbox at {url} did not start within {timeout:.0f}s")
            await asyncio.sleep(0.1)
