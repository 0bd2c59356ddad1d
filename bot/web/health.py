"""GET /healthz: the process answers, the database takes a query, and neither the sender nor
the inbox is stuck."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Mapping

from aiohttp import web
from aiohttp.typedefs import Handler
from sqlalchemy import text

from bot.storage.db import Database

log = logging.getLogger(__name__)

DB_CHECK_SECONDS = 3.0

# Each stuck sender's platform and why; empty when all make progress (Sender.stalls).
SenderStalls = Callable[[], Mapping[str, str]]


def health_handler(
    db: Database,
    sender_stalls: SenderStalls | None = None,
    inbox_stalled: Callable[[], str | None] | None = None,
) -> Handler:
    async def healthz(request: web.Request) -> web.Response:
        body: dict[str, object] = {"status": "ok", "db": "ok"}
        try:
            async with asyncio.timeout(DB_CHECK_SECONDS), db.reading() as conn:
                await conn.execute(text("SELECT 1"))
        except Exception as e:
            log.warning("healthz: database unavailable: %s", type(e).__name__)
            body.update(status="error", db="unavailable")
        checks: dict[str, Callable[[], object]] = {}
        if sender_stalls is not None:
            checks["sender"] = lambda: dict(sender_stalls())
        if inbox_stalled is not None:
            checks["inbox"] = inbox_stalled
        for part, stalled in checks.items():  # each part: "ok", or why it is stuck
            why = stalled()
            body[part] = why or "ok"
            if why:
                log.warning("healthz: %s stalled: %s", part, why)
                body["status"] = "error"
        return web.json_response(body, status=200 if body["status"] == "ok" else 503)

    return healthz
