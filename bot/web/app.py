"""The aiohttp application: a root page, /healthz, the platforms' webhooks and the /admin
dashboard."""

from __future__ import annotations

from collections.abc import Mapping

import jinja2
from aiohttp import web
from aiohttp.typedefs import Handler

from bot.domain import Platform
from bot.inbox import Inbox
from bot.platforms.base import PlatformAdapter
from bot.storage.db import Database
from bot.web.admin import Dashboard, admin_app
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
    dashboard: Dashboard | None = None,
) -> web.Application:
    """Webhooks are routed for the platforms in `adapters` (the inbox must know them too).

    Telegram and Zalo Bot check `webhook_secret` in their header; Zalo OA signs its calls and
    needs its verifier in `webhook_auth`. A platform without a check answers 403 to everything.
    `sender_stalls`, where this process runs the sender, makes /healthz report a stuck one;
    /healthz reports a stuck inbox too. `dashboard` serves /admin.
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
    if dashboard is not None:
        app.router.add_get("/admin", _to_dashboard)
        app.add_subapp("/admin", admin_app(dashboard))
    return app


async def _to_dashboard(request: web.Request) -> web.StreamResponse:
    raise web.HTTPPermanentRedirect("/admin/")


def root_handler(sandbox_url: str | None) -> Handler:
    """What `GET /` answers, in Vietnamese: what loa is, where its sandbox and health are."""
    pages = jinja2.Environment(loader=jinja2.PackageLoader("bot.web", "templates"), autoescape=True)
    page = pages.get_template("root.html").render(sandbox_url=sandbox_url)

    async def root(request: web.Request) -> web.Response:
        return web.Response(text=page, content_type="text/html", charset="utf-8")

    return root
