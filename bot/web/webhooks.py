"""POST /webhook/<platform>: verify, persist, answer 200 (CONTRACTS.md, "Web").

Checks in order: the secret (before a byte of the body is read) → 403; body over 1 MiB → 413;
not JSON (NaN and infinities included), nested too deeply, or without the platform's
update key → 400; every string is cleaned (`bot.text.clean_payload`), then the update is
persisted and answered 200, duplicates too (the platform must not retry them). A database
failure answers 500 so the platform retries: nothing is lost. Logs carry the platform, status
and update key, never text.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Protocol

from aiohttp import web
from aiohttp.typedefs import Handler

from bot.domain import Platform
from bot.inbox import Inbox
from bot.platforms.base import MalformedUpdate
from bot.text import clean_payload

log = logging.getLogger(__name__)

MAX_BODY = 1 << 20  # 1 MiB
ACCEPT_SECONDS = 10.0  # a database slower than this answers 500: the platform sends it again
TELEGRAM_SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
ZALO_BOT_SECRET_HEADER = "X-Bot-Api-Secret-Token"
ZALO_OA_SIGNATURE_HEADER = "X-ZEvent-Signature"


class WebhookAuth(Protocol):
    """How a platform proves a webhook call is its own."""

    def headers_ok(self, headers: Mapping[str, str]) -> bool:
        """Checked before the body is read."""
        ...

    def body_ok(self, headers: Mapping[str, str], body: bytes) -> bool:
        """Checked after (for signatures over the body, as Zalo OA's)."""
        ...


@dataclass(frozen=True, slots=True)
class SecretHeader:
    """A shared secret echoed in a header (Telegram, Zalo Bot), compared in constant time."""

    header: str
    secret: str

    def headers_ok(self, headers: Mapping[str, str]) -> bool:
        got = headers.get(self.header)
        return got is not None and hmac.compare_digest(got.encode(), self.secret.encode())

    def body_ok(self, headers: Mapping[str, str], body: bytes) -> bool:
        return True


@dataclass(frozen=True, slots=True)
class ZaloOaSignature:
    """Zalo OA's `X-ZEvent-Signature: mac=<sha256 hex of key_id + body + timestamp + secret>`,
    key_id being the app id (or the OA id: LOA_ZALO_OA_SIGNATURE_ID). The timestamp is the
    body's own "timestamp" field: the body is parsed for it, and nothing else is read or kept
    before the signature matches."""

    key_id: str
    secret: str

    def headers_ok(self, headers: Mapping[str, str]) -> bool:
        return headers.get(ZALO_OA_SIGNATURE_HEADER, "").startswith("mac=")

    def body_ok(self, headers: Mapping[str, str], body: bytes) -> bool:
        got = headers.get(ZALO_OA_SIGNATURE_HEADER, "").removeprefix("mac=")
        try:
            timestamp = json.loads(body).get("timestamp")
        except (ValueError, AttributeError, RecursionError):
            return False
        if not isinstance(timestamp, str | int) or isinstance(timestamp, bool):
            return False
        material = self.key_id.encode() + body + str(timestamp).encode() + self.secret.encode()
        return hmac.compare_digest(got.encode(), hashlib.sha256(material).hexdigest().encode())


def webhook_handler(platform: Platform, inbox: Inbox, auth: WebhookAuth | None) -> Handler:
    """The endpoint of one platform. Without `auth` it refuses everything (fail closed)."""
    name = platform.value
    adapter = inbox.adapters[platform]

    def refuse(status: int, reason: str) -> web.Response:
        log.warning("webhook %s: %d %s", name, status, reason)
        return web.Response(status=status, text=reason)

    async def handle(request: web.Request) -> web.Response:
        if auth is None:
            return refuse(403, "no webhook secret configured")
        if not auth.headers_ok(request.headers):
            return refuse(403, "wrong or missing secret")
        if request.content_length is not None and request.content_length > MAX_BODY:
            return refuse(413, "body too large")
        body = await _read_at_most(request, MAX_BODY)
        if body is None:
            return refuse(413, "body too large")
        if not auth.body_ok(request.headers, body):
            return refuse(403, "bad signature")
        try:
            raw = json.loads(body, parse_constant=_not_json)
        except (ValueError, RecursionError):  # invalid, not UTF-8, or nested past the stack
            return refuse(400, "body is not JSON")
        if not isinstance(raw, dict):
            return refuse(400, "body is not a JSON object")
        try:
            raw = clean_payload(raw)
        except ValueError:
            return refuse(400, "body nested too deeply or a number out of range")
        try:
            key = adapter.update_key(raw)
        except MalformedUpdate:
            return refuse(400, "no update key")
        try:
            async with asyncio.timeout(ACCEPT_SECONDS):
                new = await inbox.accept(platform, raw)
        except Exception as e:  # the database is away: a 5xx makes the platform send it again
            log.error("webhook %s: update %s not persisted: %s", name, key, type(e).__name__)
            return web.Response(status=500, text="not persisted, retry")
        log.info("webhook %s: update %s %s", name, key, "accepted" if new else "duplicate")
        return web.Response(text="ok")

    return handle


def _not_json(constant: str) -> None:
    raise ValueError(f"{constant} is not JSON")


async def _read_at_most(request: web.Request, limit: int) -> bytes | None:
    """The body, or None as soon as it passes `limit` bytes (chunked bodies have no length)."""
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.content.iter_chunked(64 * 1024):
        size += len(chunk)
        if size > limit:
            return None
        chunks.append(chunk)
    return b"".join(chunks)
