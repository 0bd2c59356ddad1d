"""The aiohttp application: a root page, /healthz and the platforms' webhooks (the /admin
dashboard later)."""

from __future__ import annotations

from collections.abc import Mapping
from html import escape

from aiohttp import web
from aiohttp.typedefs import Handler

from bot.domain import Platform
from bot.inbox import Inbox
from bot.platforms.base import PlatformAdapter
from bot.storage.db import Database
from bot.web.health import SenderStalls, health_handler
from bot.web.webhooks import (
    TELEGRAM_SECRET_HEADER,
    ZALO_BOT_SECRET_HEADER,
    SecretHeader,
    WebhookAuth,
    webhook_handler,
)

WEBHOOK_PATHS = {
    Platform.TELEGRAM: "/webhook/telegram",
    Platform.ZALO_BOT: "/webhook/zalo-bot",
    Platform.ZALO_OA: "/webhook/zalo-oa",
}


def create_web_app(
    *,
    inbox: Inbox,
    adapters: Mapping[Platform, PlatformAdapter],
    webhook_secret: str | None,
    db: Database | None = None,
    webhook_auth: Mapping[Platform, WebhookAuth] | None = None,
    sandbox_url: str | None = None,
    sender_stalls: SenderStalls | None = None,
) -> web.Application:
    """Webhooks are routed for the platforms in `adapters` (the inbox must know them too).

    Telegram and Zalo Bot check `webhook_secret` in their header; Zalo OA signs its calls and
    needs its verifier in `webhook_auth`. A platform without a check answers 403 to everything.
    `sender_stalls`, where this process runs the sender, makes /healthz report a stuck one;
    /healthz reports a stuck inbox too.
    """
    auth: dict[Platform, WebhookAuth] = {}
    if webhook_secret is not None:
        auth[Platform.TELEGRAM] = SecretHeader(TELEGRAM_SECRET_HEADER, webhook_secret)
        auth[Platform.ZALO_BOT] = SecretHeader(ZALO_BOT_SECRET_HEADER, webhook_secret)
    auth.update(webhook_auth or {})

    app = web.Application()
    app.router.add_get("/", root_handler(sandbox_url))
    app.router.add_get("/healthz", health_handler(db or inbox.db, sender_stalls, inbox.stalled))
    for platform in adapters:
        handler = webhook_handler(platform, inbox, auth.get(platform))
        app.router.add_post(WEBHOOK_PATHS[platform], handler)
    return app


ROOT_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1"><title>loa</title>
<style>body{{font:16px/1.5 system-ui,sans-serif;max-width:40rem;margin:2rem auto;padding:0 1rem}}
</style></head><body>
<h1>loa</h1>
<p>loa carries a ward's education communication plans into the Telegram (and Zalo) groups of
parents and school staff, and brings back who was reached, who understood and what schools
did.</p>
{sandbox}
<ul>
<li><a href="/healthz">/healthz</a>: health (200 when the database answers)</li>
<li>webhooks: <code>POST /webhook/telegram</code>, <code>/webhook/zalo-bot</code>,
<code>/webhook/zalo-oa</code></li>
<li>guide for officials and teachers: <code>docs/huong-dan/</code>; operators:
<code>docs/operations.md</code></li>
</ul>
</body></html>
"""


def root_handler(sandbox_url: str | None) -> Handler:
    """What `GET /` answers: what loa is, where its sandbox and health are (no data)."""
    sandbox = (
        f"<p><strong>Sandbox mode</strong> (no LOA_TELEGRAM_TOKEN): try loa in the sandbox UI at "
        f'<a href="{escape(sandbox_url)}">{escape(sandbox_url)}</a>.</p>'
        if sandbox_url
        else ""
    )
    page = ROOT_PAGE.format(sandbox=sandbox)

    async def root(request: web.Request) -> web.Response:
        return web.Response(text=page, content_type="text/html", charset="utf-8")

    return root
