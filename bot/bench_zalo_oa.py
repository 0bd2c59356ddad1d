"""`loa bench broadcast --platform zalo_oa`: one item to N followers of the sandbox's OA at a
configured rate, through the real adapter (tokens, message kinds) and sender. Counts come
from the sandbox's log: sends it took, and the quota errors (-211) it answered."""

from __future__ import annotations

import asyncio
import resource
import time
from collections import Counter
from typing import Any

from bot.bench import _database, _max_in_window, _sandbox, send_one_item
from bot.platforms.zalo_oa import ZaloOaAdapter
from bot.sandbox import zalo_oa_api as oa
from bot.sandbox.client import SandboxClient
from bot.services.zalo_oa_store import ZaloOaStore
from bot.storage.db import Database
from bot.storage.models import Chat, table_of, utcnow

QUOTA_ERRORS = (oa.E_QUOTA, oa.E_WINDOW)


async def broadcast(
    *, chats: int, rate: float, api_url: str | None, db_url: str | None, concurrency: int
) -> dict[str, Any]:
    async with _sandbox(api_url) as url, _database(db_url) as db, SandboxClient(url) as sandbox:
        await sandbox.reset()
        limit = asyncio.Semaphore(32)

        async def follower(i: int) -> int:
            async with limit:
                user = await sandbox.create_user(f"Phụ huynh thử tải {i}")
                await sandbox.call("POST", "zalo-oa/followers", {"user_id": user})
                return user

        followers = await asyncio.gather(*(follower(i) for i in range(chats)))
        chat_ids = await _register(db, followers)
        adapter = ZaloOaAdapter(
            ZaloOaStore(db, oa.APP_ID),
            app_id=oa.APP_ID,
            secret_key=oa.SECRET_KEY,
            refresh_token=oa.FIRST_REFRESH_TOKEN,
            api_url=f"{url}/zalo-oa",
            oauth_url=f"{url}/zalo-oa",
            pool_size=concurrency * 2,
        )
        since, counts = await send_one_item(db, adapter, chat_ids, concurrency, rate)
        calls = [
            c
            for c in await sandbox.log(since=since)
            if c["platform"] == "zalo_oa" and str(c["method"]).startswith("message/")
        ]

    ok = [c for c in calls if "error" not in c["params"]]
    seconds = max((c["t"] for c in ok), default=time.time()) - since
    per_chat = Counter(str(c["chat_id"]) for c in ok)
    per_second = len(ok) / seconds if seconds else 0.0
    return {
        "bench": "broadcast",
        "platform": "zalo_oa",
        "n": chats,
        "seconds": round(seconds, 3),
        "per_second": round(per_second, 1),
        "rate": rate,
        "share_of_rate": round(per_second / rate, 3) if rate else None,
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        "errors": sum(n for status, n in counts.items() if status != "sent"),
        "sent": len(ok),
        "duplicates": sum(n - 1 for n in per_chat.values() if n > 1),
        "missing": sum(1 for f in followers if per_chat[str(f)] == 0),
        "quota_errors": sum(1 for c in calls if c["params"].get("error") in QUOTA_ERRORS),
        "api_errors": sum(1 for c in calls if "error" in c["params"]),
        "kinds": dict(Counter(str(c["method"]) for c in ok)),
        "max_per_second_window": _max_in_window((c["t"] for c in ok), 1.0),
        "concurrency": concurrency,
        "database": "postgresql" if db_url and db_url.startswith("postgresql") else "sqlite",
        "statuses": counts,
    }


async def _register(db: Database, followers: list[int]) -> list[int]:
    now = utcnow()
    rows = [
        {
            "platform": "zalo_oa",
            "platform_chat_id": str(f),
            "type": "private",
            "title": f"Người theo dõi {i}",
            "audience": "parents",
            "active": True,
            "member_count": 1,
            "member_count_at": now,
            "created_at": now,
        }
        for i, f in enumerate(followers)
    ]
    table = table_of(Chat)
    async with db.engine.begin() as conn:
        result = await conn.execute(table.insert().returning(table.c.id), rows)
        return [int(i) for i in result.scalars()]
