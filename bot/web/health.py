"""GET /healthz: the process answers and the database takes a query."""

from __future__ import annotations

import asyncio
import logging

from aiohttp import web
from aiohttp.typedefs import Handler
from sqlalchemy import text

from bot.storage.db import Database

log = logging.getLogger(__name__)

DB_CHECK_SECONDS = 3.0


def health_handler(db: Database) -> Handler:
    async def healthz(request: web.Request) -> web.Response:
        try:
            async with asyncio.timeout(DB_CHECK_SECONDS), db.reading() as conn:
                await conn.execute(text("SELECT 1"))
        except Exception as e:
            log.warning("healthz: database unavailable: %s", type(e).__name__)
            return web.json_response({"status": "error", "db": "unavailable"}, status=503)
        return web.json_response({"status": "ok", "db": "ok"})

    return healthz
