"""`loa bench inbound`: how fast `loa run` takes updates in through its webhook and handles them.

A sandbox in its own process makes the world: groups holding a real post with a "Đã hiểu"
button (sent by loa's own engine), people who tap it, write in the groups and send /huongdan
in private. It produces those updates as Telegram would; the bench takes them off the sandbox's
queue and POSTs them to the webhook of a `loa run` in webhook mode, with bounded concurrency,
timing each acknowledgement, then polls loa's database until every row is handled.
"""

from __future__ import annotations

import asyncio
import gc
import os
import secrets
import socket
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Awaitable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any, TypeVar

import aiohttp
from sqlmodel import col, func, select

from bot.app import SANDBOX_TOKEN
from bot.bench import _database, _register, _sandbox, _wait_until_done
from bot.delivery.sender import ChannelSender
from bot.domain import Button
from bot.platforms.telegram import TelegramAdapter
from bot.sandbox.client import SandboxClient
from bot.services.broadcasts import Broadcast, enqueue
from bot.storage.db import Database
from bot.storage.models import Chat, InboxUpdate, table_of

T = TypeVar("T")
GROUPS = 20
HANDLED_WITHIN_S = 300.0


async def inbound(
    *, updates: int, db_url: str | None, concurrency: int, rate: float | None = None
) -> dict[str, Any]:
    async with (
        _sandbox(None) as api_url,
        _database(db_url) as db,
        SandboxClient(api_url) as sandbox,
    ):
        raws = await _updates_from_the_world(db, api_url, sandbox, updates)
        async with _loa_run(api_url, db.url) as (webhook, secret, pid):
            before = await _last_row(db)
            # What making the world left behind must not be collected mid-run: a full
            # collection here stalled the posting for ~100 ms, counted as loa's latency.
            gc.collect()
            gc.freeze()
            cpu_before = _cpu_seconds(pid)
            started = time.perf_counter()
            latencies, failed = await _post_all(webhook, secret, raws, concurrency, rate)
            gc.unfreeze()
            posted = time.perf_counter() - started
            handled, handled_s = await _wait_handled(db, before, len(raws), started)
            cpu = _cpu_seconds(pid) - cpu_before
            peak_rss_mb = _peak_rss_mb(pid)
    latencies.sort()
    acks_per_second = round(len(latencies) / posted, 1)
    return {
        "bench": "inbound",
        "n": len(raws),  # updates posted
        "seconds": round(posted, 3),
        "per_second": acks_per_second,
        "peak_rss_mb": peak_rss_mb,  # of the `loa run` measured
        "errors": failed + len(raws) - handled,
        "concurrency": concurrency,
        "rate": rate,
        "acks_per_second": acks_per_second,
        "ack_ms_p50": _ms(latencies, 0.50),
        "ack_ms_p99": _ms(latencies, 0.99),
        "ack_ms_max": _ms(latencies, 1.0),
        "not_acknowledged": failed,
        "handled": handled,
        "handled_per_second": round(handled / handled_s, 1) if handled_s else 0.0,
        # CPU time of `loa run` (all its threads) from the first post to the last handled,
        # per update: acknowledging and handling it. Other processes disturb it far less than
        # the rates, on a shared machine.
        "cpu_ms_per_update": round(cpu * 1000 / handled, 2) if handled else 0.0,
        "database": "postgresql" if db.url.startswith("postgresql") else "sqlite",
        "load_average": [round(x, 2) for x in os.getloadavg()],
    }


async def _updates_from_the_world(
    db: Database, api_url: str, sandbox: SandboxClient, n: int
) -> list[dict[str, Any]]:
    """`n` updates as the sandbox makes them: half taps on the post, a quarter group messages,
    a quarter /huongdan in private (one per person, as people do not repeat it every second)."""
    await sandbox.limits(global_per_s=0, group_per_min=0, private_per_s=0)
    bot_id = await sandbox.register_bot(SANDBOX_TOKEN)
    people = await _bounded(
        [sandbox.create_user(f"Phụ huynh {i}") for i in range(max(1, n // 4))], 32
    )
    groups = await _bounded(
        [sandbox.create_chat(f"Lớp {i}", members=[*people, bot_id]) for i in range(GROUPS)], 8
    )
    await _bounded(
        [sandbox.create_chat("", type="private", user_id=p, members=[bot_id]) for p in people], 32
    )
    adapter = TelegramAdapter(SANDBOX_TOKEN, api_url)
    await adapter.start()
    try:
        occurrence, posts = await _post_the_item(db, adapter, sandbox, groups)
        await _drain(adapter)  # what making the world produced (the bot joining groups)

        def one(i: int) -> Awaitable[Any]:
            person, group = people[i % len(people)], groups[i % len(groups)]
            match i % 4:
                case 0 | 1:
                    return sandbox.press(group, person, posts[group], f"ack:{occurrence}")
                case 2:
                    return sandbox.write(group, person, "Cảm ơn cô, gia đình đã nhận thông tin.")
                case _:
                    return sandbox.write(person, person, "/huongdan")

        await _bounded([one(i) for i in range(n)], 32)
        raws: list[dict[str, Any]] = []
        while len(raws) < n:
            batch = await adapter.poll(0)
            if not batch:
                break
            raws += batch
        await adapter.poll(0)  # confirms the last batch: the sandbox must not send them itself
    finally:
        await adapter.stop()
    return raws


async def _post_the_item(
    db: Database, adapter: TelegramAdapter, sandbox: SandboxClient, groups: list[int]
) -> tuple[int, dict[int, int]]:
    """Send one item with a "Đã hiểu" button to every group through loa's engine; returns the
    occurrence and each group's message id."""
    chat_ids = await _chats(db, groups)
    item = Broadcast(
        key=f"bench-inbound:{time.time_ns()}",
        title="Họp phụ huynh",
        text="<b>Thông báo</b>: họp phụ huynh lúc 8 giờ sáng Chủ nhật.",
        buttons=(Button("Đã hiểu", "ack:{occurrence}"),),
    )
    occurrence = await enqueue(db, item, chat_ids)
    stop = asyncio.Event()
    run = asyncio.create_task(ChannelSender(db, adapter, rate_per_s=0).run(stop))
    await _wait_until_done(db, run)
    stop.set()
    await run
    posts = {}
    for group in groups:
        messages = await sandbox.messages(group)
        posts[group] = next(m["message_id"] for m in messages if m.get("reply_markup"))
    return occurrence, posts


async def _chats(db: Database, groups: list[int]) -> list[int]:
    """loa's chat ids of the sandbox's groups, registered if new (a database given with --db
    may hold them from an earlier run: a new sandbox numbers chats the same way)."""
    table = table_of(Chat)
    platform_ids = [str(g) for g in groups]
    query = select(table.c.id).where(
        table.c.platform == "telegram", table.c.platform_chat_id.in_(platform_ids)
    )
    async with db.reading() as conn:
        known = list((await conn.execute(query)).scalars())
    return known if len(known) == len(groups) else await _register(db, groups)


async def _drain(adapter: TelegramAdapter) -> None:
    while await adapter.poll(0):
        pass


@asynccontextmanager
async def _loa_run(api_url: str, db_url: str) -> AsyncIterator[tuple[str, str, int]]:
    """`loa run` in webhook mode against the sandbox, in its own process; yields its webhook
    URL, its secret and its process id."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    secret = secrets.token_urlsafe(24)
    base = f"http://127.0.0.1:{port}"
    env = {
        **os.environ,
        "LOA_DATABASE_URL": db_url,
        "LOA_TELEGRAM_TOKEN": SANDBOX_TOKEN,
        "LOA_TELEGRAM_API_URL": api_url,
        "LOA_WEBHOOK_BASE_URL": base,
        "LOA_WEBHOOK_SECRET": secret,
        "LOA_WEB_PORT": str(port),
        "LOA_TELEGRAM_RATE": "0",  # the sandbox is a local peer without limits
    }
    with tempfile.TemporaryDirectory(prefix="loa-bench-") as folder:
        log = (Path(folder) / "loa-run.log").open("wb")
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bot.cli", "run", env=env, stdout=log, stderr=log
        )
        try:
            await _wait_healthy(f"{base}/healthz", process)
            yield f"{base}/webhook/telegram", secret, process.pid
        except RuntimeError:
            log.flush()
            sys.stderr.write((Path(folder) / "loa-run.log").read_text()[-4000:])
            raise
        finally:
            if process.returncode is None:
                process.terminate()
                await process.wait()
            log.close()


def _cpu_seconds(pid: int) -> float:
    """User and system CPU time a process has used so far (Linux); 0 where unknown."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime, stime


def _peak_rss_mb(pid: int) -> float:
    """A process's peak resident memory so far (Linux's VmHWM), in MB; 0 where unknown."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return 0.0
    kb = next((line.split()[1] for line in status.splitlines() if line.startswith("VmHWM:")), 0)
    return round(int(kb) / 1024, 1)


async def _wait_healthy(url: str, process: asyncio.subprocess.Process) -> None:
    deadline = time.monotonic() + 60
    async with aiohttp.ClientSession() as session:
        while time.monotonic() < deadline:
            if process.returncode is not None:
                raise RuntimeError(f"loa run exited with {process.returncode}")
            try:
                async with session.get(url) as response:
                    if response.status == 200:
                        return
            except aiohttp.ClientError:
                pass
            await asyncio.sleep(0.2)
    raise RuntimeError("loa run did not become healthy within 60 s")


async def _post_all(
    url: str, secret: str, raws: list[dict[str, Any]], concurrency: int, rate: float | None
) -> tuple[list[float], int]:
    """POST every update, `concurrency` at a time, as fast as they are acknowledged or at
    `rate` a second; the seconds each took to be acknowledged (counted from when it was due,
    so that a stall is not hidden by the requests it held back), and how many were not (any
    status but 200)."""
    latencies: list[float] = []
    failed = 0
    headers = {"X-Telegram-Bot-Api-Secret-Token": secret}
    connector = aiohttp.TCPConnector(limit=concurrency)
    begin = time.perf_counter()
    async with aiohttp.ClientSession(connector=connector, headers=headers) as session:
        pending = enumerate(raws)

        async def worker() -> None:
            nonlocal failed
            for i, raw in pending:
                started = time.perf_counter()
                if rate:
                    started = begin + i / rate
                    await asyncio.sleep(started - time.perf_counter())
                async with session.post(url, json=raw) as response:
                    await response.read()
                    if response.status != 200:
                        failed += 1
                        continue
                latencies.append(time.perf_counter() - started)

        await asyncio.gather(*(worker() for _ in range(concurrency)))
    return latencies, failed


async def _last_row(db: Database) -> int:
    async with db.reading() as conn:
        return int((await conn.execute(select(func.max(InboxUpdate.id)))).scalar_one() or 0)


async def _wait_handled(db: Database, after: int, n: int, started: float) -> tuple[int, float]:
    """How many rows (of ids above `after`) got handled, and how long after `started` the last
    one was."""
    handled, at = 0, 0.0
    query = select(func.count()).where(
        col(InboxUpdate.id) > after, col(InboxUpdate.handled_at).is_not(None)
    )
    deadline = time.perf_counter() + HANDLED_WITHIN_S
    while time.perf_counter() < deadline:
        async with db.reading() as conn:
            now = (await conn.execute(query)).scalar_one()
        if now != handled:
            handled, at = now, time.perf_counter() - started
        if handled >= n:
            break
        await asyncio.sleep(0.05)
    return handled, at


async def _bounded(calls: list[Awaitable[T]], limit: int) -> list[T]:
    gate = asyncio.Semaphore(limit)

    async def one(call: Awaitable[T]) -> T:
        async with gate:
            return await call

    return list(await asyncio.gather(*(one(c) for c in calls)))


def _ms(sorted_seconds: list[float], share: float) -> float:
    if not sorted_seconds:
        return 0.0
    index = min(len(sorted_seconds) - 1, int(share * len(sorted_seconds)))
    return round(sorted_seconds[index] * 1000, 1)
