"""The composition root (design rule 7): builds every part from Settings and runs them."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import signal
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from aiohttp import web
from sqlalchemy import text
from sqlalchemy.engine import make_url

from bot.config import Settings
from bot.delivery.replies import ChannelLimiters, ReplySender
from bot.delivery.sender import Sender
from bot.dispatch import Dispatcher
from bot.domain import Platform
from bot.inbox import Inbox
from bot.platforms.base import PlatformAdapter, SendError
from bot.platforms.telegram import TelegramAdapter
from bot.platforms.zalo_bot import InvalidToken as ZaloInvalidToken
from bot.platforms.zalo_bot import ZaloBotAdapter
from bot.platforms.zalo_oa import ZaloOaAdapter
from bot.reports.report import load_content
from bot.sandbox import Sandbox
from bot.sandbox import zalo_oa_api as oa_sandbox
from bot.services import (
    campaigns,
    demo,
    evidence,
    labels,
    questions,
    retention,
    rsvp,
    tasks,
    trends,
    zalo_oa_demo,
    zalo_oa_quota,
)
from bot.services.announcements import ProgressReporter
from bot.services.numbered import NumberedStore
from bot.services.units import sync_units
from bot.services.zalo_oa_store import ZaloOaStore
from bot.storage import deliveries
from bot.storage.db import Database
from bot.storage.migrate import upgrade
from bot.storage.models import RoleName, utcnow
from bot.web import create_web_app
from bot.web.admin import Dashboard
from bot.web.app import WEBHOOK_PATHS
from bot.web.webhooks import WebhookAuth, ZaloOaSignature
from content.check import check_content
from content.templates import Templates
from content.units import UNITS_FILE, load_units
from handlers import build_router
from scheduler.runner import Scheduler

log = logging.getLogger(__name__)

# Sandbox mode's bots. The sandbox accepts any well-formed token; these are not secrets.
SANDBOX_TOKEN = "1000000001:loa-sandbox-token"
SANDBOX_ZALO_BOT_TOKEN = "1000000002:loa-zalo-sandbox-token"


def telegram_adapter(settings: Settings, api_url: str | None = None) -> TelegramAdapter:
    """The Telegram adapter the settings describe (`api_url` overrides, e.g. the sandbox's)."""
    token = settings.telegram_token.get_secret_value() if settings.telegram_token else SANDBOX_TOKEN
    url = api_url or str(settings.telegram_api_url).rstrip("/")
    return TelegramAdapter(token, url, pool_size=settings.sender_concurrency * 2)


def zalo_bot_adapter(
    settings: Settings, templates: Templates, db: Database, sandbox_url: str | None = None
) -> ZaloBotAdapter:
    """The Zalo Bot adapter the settings describe (against the sandbox at `sandbox_url`)."""
    token = settings.zalo_bot_token
    secret = token.get_secret_value() if token else SANDBOX_ZALO_BOT_TOKEN
    url = f"{sandbox_url}/zalo" if sandbox_url else str(settings.zalo_bot_api_url).rstrip("/")
    return ZaloBotAdapter(
        secret, url, templates, numbers=NumberedStore(db), pool_size=settings.sender_concurrency
    )


def zalo_oa_adapter(settings: Settings, db: Database, sandbox_url: str | None) -> ZaloOaAdapter:
    """The Zalo OA adapter: the configured OA, or (sandbox mode) the sandbox's."""
    s = settings
    if s.zalo_oa_enabled:
        assert s.zalo_oa_secret_key is not None and s.zalo_oa_refresh_token is not None
        app_id, secret = str(s.zalo_oa_app_id), s.zalo_oa_secret_key.get_secret_value()
        refresh = s.zalo_oa_refresh_token.get_secret_value()
        api, oauth = str(s.zalo_oa_api_url), str(s.zalo_oa_oauth_url)
    else:
        assert sandbox_url is not None
        app_id, secret, refresh = (
            oa_sandbox.APP_ID,
            oa_sandbox.SECRET_KEY,
            oa_sandbox.FIRST_REFRESH_TOKEN,
        )
        api = oauth = f"{sandbox_url}/zalo-oa"
    return ZaloOaAdapter(
        ZaloOaStore(db, app_id),
        app_id=app_id,
        secret_key=secret,
        refresh_token=refresh,
        api_url=api,
        oauth_url=oauth,
        monthly_quota=s.zalo_oa_monthly_quota,
        pool_size=s.sender_concurrency * 2,
    )


def zalo_oa_signature(settings: Settings) -> ZaloOaSignature | None:
    """How OA webhook calls are verified; None (everything refused) without a secret."""
    s = settings
    if not s.zalo_oa_enabled:
        return ZaloOaSignature(oa_sandbox.APP_ID, oa_sandbox.WEBHOOK_SECRET)
    if s.zalo_oa_webhook_secret is None:
        return None
    key_id = s.zalo_oa_signature_id or str(s.zalo_oa_app_id)
    return ZaloOaSignature(key_id, s.zalo_oa_webhook_secret.get_secret_value())


def build_sender(
    settings: Settings, db: Database, adapters: Mapping[Platform, PlatformAdapter]
) -> Sender:
    return Sender(
        db,
        adapters,
        concurrency=settings.sender_concurrency,
        rates={Platform.TELEGRAM: settings.telegram_rate, Platform.ZALO_OA: settings.zalo_oa_rate},
        quiet_hours=settings.quiet,
        tz=lambda t: t.astimezone(settings.tz),
    )


def build_replies(sender: Sender) -> ReplySender:
    """Replies leave within the same limits as each channel's broadcasts."""
    return ReplySender(
        {
            Platform(channel.platform): ChannelLimiters(*channel.limiters)
            for channel in sender.channels
        }
    )


class StartupError(Exception):
    """loa cannot start; the message says why in one line, for the operator."""


def safe_url(url: str) -> str:
    """A database URL without its password, fit for logs and errors."""
    return make_url(url).render_as_string(hide_password=True)


async def check_database(db: Database, timeout: float = 10.0) -> None:
    try:
        async with asyncio.timeout(timeout):
            async with db.reading() as conn:
                await conn.execute(text("SELECT 1"))
    except Exception as e:  # every driver fails in its own way; the operator needs one line
        raise StartupError(
            f"database unreachable at {safe_url(db.url)} ({type(e).__name__}: {e}); "
            "check LOA_DATABASE_URL"
        ) from None


@dataclass
class Running:
    """What `App.start` brought up, for `App.stop` to take down in reverse."""

    urls: dict[str, str] = field(default_factory=dict)
    tasks: list[asyncio.Task[Any]] = field(default_factory=list)
    runners: list[web.AppRunner] = field(default_factory=list)
    sandbox: Sandbox | None = None
    next_steps: list[str] = field(default_factory=list)  # sandbox mode: what to try, in order


class App:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.db = Database(settings.database_url)
        quiet = settings.quiet
        self.templates = Templates(
            settings.content_dir / "templates",
            timezone=settings.tz,
            quiet_hours=None if quiet is None else (quiet.start, quiet.end),
        )
        self.adapters: dict[Platform, PlatformAdapter] = {}
        self.stopping = asyncio.Event()
        self.running = Running()
        self._scheduler: Scheduler | None = None

    async def start(self) -> Running:
        s = self.settings
        problems = check_content(s.content_dir)
        if problems:
            raise StartupError(
                f"{len(problems)} problem(s) in the content at {s.content_dir}, first: "
                f"{problems[0]} (see all with `loa content check`)"
            )
        await check_database(self.db)
        await upgrade(s.database_url)
        recovered = await deliveries.recover_in_flight(self.db)
        if recovered:
            log.warning(
                "%d deliveries were in flight at the last stop: marked uncertain", recovered
            )

        api_url = None
        if s.sandbox_mode:
            self.running.sandbox = Sandbox()
            async with _listening(s.web_host, s.sandbox_port, "LOA_SANDBOX_PORT"):
                api_url = await self.running.sandbox.start(host=s.web_host, port=s.sandbox_port)
            self.running.urls["sandbox"] = f"{api_url}/sandbox"
        if s.sandbox_mode or s.telegram_token is not None:
            self.adapters[Platform.TELEGRAM] = telegram_adapter(s, api_url)
        if s.sandbox_mode or s.zalo_bot_token is not None:
            self.adapters[Platform.ZALO_BOT] = zalo_bot_adapter(s, self.templates, self.db, api_url)
        if s.sandbox_mode or s.zalo_oa_enabled:
            self.adapters[Platform.ZALO_OA] = zalo_oa_adapter(s, self.db, api_url)
        problem = s.zalo_webhook_secret_problem()
        if problem is not None:
            raise StartupError(problem)
        for adapter in self.adapters.values():
            await _start(adapter)

        # The classifier trains once, in a thread, before the first update can need it; then
        # what was stored unlabelled (before this version, or the last run) is labelled aside.
        await labels.warm()
        self._spawn(labels.catch_up_all(self.db))
        sender = build_sender(s, self.db, self.adapters)
        dispatcher = Dispatcher(
            build_router(), db=self.db, templates=self.templates, web_url=s.dashboard_url
        )
        inbox = Inbox(self.db, self.adapters, dispatcher, replies=build_replies(sender))
        scheduler = Scheduler(
            self.db, on_enqueued=sender.wake, misfire_grace=s.misfire_grace_period
        )

        web_app = create_web_app(
            db=self.db,
            inbox=inbox,
            adapters=self.adapters,
            webhook_secret=s.webhook_secret.get_secret_value() if s.webhook_secret else None,
            sandbox_url=self.running.urls.get("sandbox"),
            sender_stalls=sender.stalls,
            webhook_auth=_oa_auth(s) if Platform.ZALO_OA in self.adapters else None,
            dashboard=Dashboard(
                db=self.db,
                content=load_content(s.content_dir),
                content_dir=s.content_dir,
                templates=self.templates,
                adapters=self.adapters,
                secure_cookies=s.dashboard_url.startswith("https://"),
            ),
        )
        runner = web.AppRunner(web_app, access_log=None)
        await runner.setup()
        async with _listening(s.web_host, s.web_port, "LOA_WEB_PORT"):
            await web.TCPSite(runner, s.web_host, s.web_port).start()
        self.running.runners.append(runner)
        self.running.urls["web"] = f"http://{s.web_host}:{s.web_port}"
        self.running.urls["health"] = f"http://{s.web_host}:{s.web_port}/healthz"

        # After the ports: a start that fails on a port says one line only.
        units_file = s.content_dir / UNITS_FILE
        if units_file.is_file():
            active = await sync_units(self.db, load_units(units_file))
            log.info("units: %d active, from %s and from officials in chat", active, units_file)

        for platform, adapter in self.adapters.items():
            if not adapter.capabilities.polling:
                continue  # its webhook is set outside loa (Zalo OA: the developer console)
            if s.webhook_base_url and s.webhook_secret:
                hook = str(s.webhook_base_url).rstrip("/") + WEBHOOK_PATHS[platform]
                await adapter.set_webhook(hook, s.webhook_secret.get_secret_value())
            else:
                await adapter.delete_webhook()
                self._spawn(inbox.poll_forever(platform, self.stopping))
        self._spawn(inbox.run(self.stopping))
        self._spawn(sender.run(self.stopping))
        progress = ProgressReporter(self.db, self.adapters, self.templates, quiet_hours=s.quiet)
        self._spawn(progress.run(self.stopping))
        keep = timedelta(days=s.free_text_retention_days)
        self._spawn(retention.run(self.db, keep, self.stopping))
        if s.evidence_dir is not None:
            sources = {
                platform.value: adapter
                for platform, adapter in self.adapters.items()
                if isinstance(adapter, evidence.FileSource)
            }
            self._spawn(evidence.run(self.db, sources, s.evidence_dir, self.stopping))
        scheduler.start()
        self._scheduler = scheduler
        await campaigns.schedule_all(self.db, scheduler, s.content_dir, self.templates, utcnow())
        await tasks.schedule_all(self.db, scheduler, s.content_dir, self.templates, utcnow())
        db, templates = self.db, self.templates
        scheduler.every(
            "questions:overdue", lambda: questions.escalate(db, templates), questions.SWEEP
        )
        scheduler.every("rsvp:reminders", lambda: rsvp.remind(db, templates), rsvp.SWEEP)
        scheduler.every("labels:catch-up", lambda: labels.catch_up(db), labels.SWEEP)
        if Platform.ZALO_OA in self.adapters:
            flagger = zalo_oa_quota.QuotaFlagger(
                db, self.adapters, templates, monthly_quota=s.zalo_oa_monthly_quota
            )
            scheduler.every("zalo_oa:quota-flags", flagger.flag_once, zalo_oa_quota.SWEEP)
        trends.schedule(scheduler, db, templates, labels.source(db))

        if api_url is not None:  # sandbox mode: loa talks to its own sandbox
            # The demo's chats are with the bots; the OA's followers are seeded on their own.
            bots: dict[Platform, PlatformAdapter] = {
                p: a for p, a in self.adapters.items() if p is not Platform.ZALO_OA
            }
            ward = await demo.seed(self.db, api_url, bots, self.templates)
            for item, chats in ward.items:
                scheduler.broadcast_at(item, chats)
            self.running.next_steps = demo_steps(ward, s)
            if self.running.sandbox is not None and Platform.ZALO_OA in self.adapters:
                hook = f"{self.running.urls['web']}{WEBHOOK_PATHS[Platform.ZALO_OA]}"
                await zalo_oa_demo.seed(self.db, self.running.sandbox, hook, ward)
        return self.running

    async def stop(self) -> None:
        """Stop claiming, let in-flight sends finish (drain), then close everything."""
        self.stopping.set()
        if self._scheduler is not None:
            await self._scheduler.shutdown()
        if self.running.tasks:
            await asyncio.wait(self.running.tasks, timeout=30)
        for task in self.running.tasks:
            task.cancel()
        for runner in self.running.runners:
            await runner.cleanup()
        for adapter in self.adapters.values():
            with contextlib.suppress(Exception):
                await adapter.stop()
        if self.running.sandbox is not None:
            await self.running.sandbox.stop()
        await self.db.dispose()

    async def run_until_signal(self) -> None:
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, self.stopping.set)
        try:
            running = await self.start()
        except BaseException:
            await self.stop()
            raise
        _calm_the_collector()
        mode = (
            " (sandbox mode: no LOA_TELEGRAM_TOKEN, LOA_ZALO_BOT_TOKEN or LOA_ZALO_OA_APP_ID set)"
            if self.settings.sandbox_mode
            else ""
        )
        print(f"loa is ready{mode}", flush=True)
        for name, url in running.urls.items():
            print(f"  {name:<16} {url}", flush=True)
        for line in running.next_steps:
            print(line, flush=True)
        await self.stopping.wait()
        print("loa is stopping: finishing the sends in flight…", flush=True)
        await self.stop()

    def _spawn(self, coroutine: Any) -> None:
        self.running.tasks.append(asyncio.create_task(coroutine))


async def _start(adapter: PlatformAdapter) -> None:
    """Start an adapter (its getMe); a Zalo Bot that cannot is the operator's one line."""
    try:
        await adapter.start()
    except ZaloInvalidToken as e:
        raise StartupError(str(e)) from None
    except SendError as e:
        if adapter.platform is not Platform.ZALO_BOT:
            raise
        raise StartupError(
            f"the Zalo Bot API did not answer getMe ({type(e).__name__}); "
            "check LOA_ZALO_BOT_API_URL"
        ) from None


def _oa_auth(settings: Settings) -> dict[Platform, WebhookAuth]:
    signature = zalo_oa_signature(settings)
    return {Platform.ZALO_OA: signature} if signature is not None else {}


def _calm_the_collector() -> None:
    """A full garbage collection walks every object, and a started loa holds many that live
    as long as it does (SQLAlchemy, PTB, content): frozen, and young collections made rarer,
    they no longer stall the webhook's acknowledgements by tens of milliseconds
    (`loa bench inbound`: p99 from ~90 to ~25 ms at 1,000 updates/s)."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(20_000, 50, 50)


@contextlib.asynccontextmanager
async def _listening(host: str, port: int, variable: str) -> AsyncIterator[None]:
    """Binding a port: a port in use is the operator's one-line problem, not a traceback."""
    try:
        yield
    except OSError as e:
        raise StartupError(
            f"cannot listen on {host}:{port} ({e.strerror}); check {variable}"
        ) from None


def demo_steps(ward: demo.DemoWard, s: Settings) -> list[str]:
    """What a newcomer tries in the sandbox UI, in order, one role after another."""
    due = {item.source: item.due_at.astimezone(s.tz).strftime("%H:%M") for item, _ in ward.items}
    steps = [
        "Try it in the sandbox UI, in this order:",
        f"  parent           open a «Phụ huynh lớp …» group, pick a member in «Viết với tư cách»:"
        f" tap «Đã hiểu» on the summary ({due.get('demo:nq71_tom_tat')}), answer the quiz"
        f" ({due.get('demo:nq71_cau_hoi')}), answer the English club notice"
        f" ({due.get('demo:clb_tieng_anh')})",
    ]
    for n, (name, code) in enumerate(ward.officials, 1):
        role = "official" if n == 1 else "2nd official"
        what = "then /thongbao to write" if n == 1 else "approves what the first one submits"
        steps.append(f"  {role:<16} open the chat of «{name}», send /start {code}; {what}")
    task = next((t for i, t in due.items() if i and i.startswith("task:")), "")
    for name, role in ward.staff:
        if role is RoleName.SCHOOL_ADMIN:
            steps.append(
                f"  principal        «{name}» gets a «06 rõ» task reminder ({task}) in the chat"
                " with the bot: tap a result"
            )
        elif role is RoleName.TEACHER:
            steps.append(
                f"  teacher          «Tạo nhóm» with «{name}» as its creator, «Thêm bot»,"
                " then as that person choose the unit and audience in the bot's prompt"
            )
    for title in ward.zalo_groups:
        steps.append(
            f"  Zalo parent      open «{title}» (Zalo Bot: no buttons), pick a member and type"
            " «@Loa Sandbox 1» (a Zalo bot in a group sees only mentions and replies): it answers"
            " the latest post that offered numbers, as a tap would on Telegram"
        )
    for name, code in ward.zalo_officials:
        steps.append(
            f"  Zalo official    open the Zalo chat of «{name}», type {code}; buttons come as"
            " numbers there: answer «1», «2», …"
        )
    steps.append(
        "  dashboard        an official (after /start) or the principal sends /dangnhap and opens"
        f" the one-time link: {s.dashboard_url}/admin/vao/…"
    )
    steps.append(
        "The demo's items are urgent, so they arrive at any hour; a real item to parents'"
        f" groups waits until quiet hours ({s.quiet_hours}) are over."
    )
    return steps
