"""The sandbox server: `Sandbox` for in-process use, `create_app`, and `serve` for the CLI."""

from __future__ import annotations

import asyncio
import contextlib
import gc
from types import TracebackType

from aiohttp import web

from .control_api import ControlApi
from .limits import FaultInjector, RateLimiter
from .state import BotAccount, State, User
from .telegram_api import TelegramApi
from .ui import Ui
from .updates import UpdateHub
from .zalo_bot_api import ZaloBotApi, ZaloBotHub
from .zalo_oa_api import ZaloOaApi

MAX_UPLOAD = 64 * 1024 * 1024  # Telegram accepts 50 MB uploads from bots


class Sandbox:
    """An in-memory Telegram Bot API and Zalo Bot API peer with a control API and a browser UI.

    timeout_hold: how long a `timeout` fault holds the (already performed) call's answer.
    seed: seeds the random source of probabilistic faults (reproducible runs).
    webhook_*: webhook delivery retries: attempts per update, first backoff (doubling) and cap,
    and the per-POST timeout, all in seconds.
    """

    def __init__(
        self,
        *,
        timeout_hold: float = 120.0,
        seed: int | None = 0,
        webhook_max_attempts: int = 5,
        webhook_backoff: float = 0.1,
        webhook_backoff_max: float = 2.0,
        webhook_timeout: float = 10.0,
    ) -> None:
        self.timeout_hold = timeout_hold
        self.seed = seed
        self.state = State()
        self.hub = UpdateHub(
            webhook_max_attempts=webhook_max_attempts,
            webhook_backoff=webhook_backoff,
            webhook_backoff_max=webhook_backoff_max,
            webhook_timeout=webhook_timeout,
        )
        self.zalo_bot_hub = ZaloBotHub(webhook_timeout=webhook_timeout)
        self.limiter = RateLimiter()
        self.faults = FaultInjector(seed)
        self.zalo_oa = ZaloOaApi(self)
        self.url: str | None = None
        self._runner: web.AppRunner | None = None
        self._release: asyncio.Event | None = None

    # --- world --------------------------------------------------------------------------------

    def register_bot(self, token: str) -> BotAccount:
        """The bot for a well-formed token, claiming a bot id already used as a member."""
        bot = self.bot_by_id(int(token.partition(":")[0]))
        bot.token = token
        self.state.bots_by_token[token] = bot
        return bot

    def bot_by_id(self, bot_id: int) -> BotAccount:
        """The bot with this id; made (without a token yet) if unknown, so that set-ups may
        put a bot in chats before its first Bot API call. Its first token claims it."""
        bot = self.state.bots.get(bot_id)
        if bot is None:
            user = User(bot_id, "Loa Sandbox", username=f"loa{bot_id}_bot", is_bot=True)
            bot = BotAccount(id=bot_id, token="", user=user)
            self.state.bots[bot_id] = bot
        return bot

    async def reset(self) -> None:
        """Forget everything: users, chats, bots, updates, log, faults and limits."""
        self.hub.forget()
        self.zalo_bot_hub.forget()
        if self._release is not None:  # let stalled `timeout` faults answer now
            self._release.set()
            self._release = asyncio.Event()
        self.state = State()
        self.zalo_oa.reset()
        self.limiter.reset()
        self.faults = FaultInjector(self.seed)

    async def hold(self) -> None:
        """Stall a response for timeout_hold seconds, or until the sandbox stops."""
        if self._release is None:
            self._release = asyncio.Event()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._release.wait(), self.timeout_hold)

    # --- server -------------------------------------------------------------------------------

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> str:
        """Serve on host:port (0 = any free port); returns the base URL."""
        if self._runner is not None:
            raise RuntimeError("sandbox already started")
        self._release = asyncio.Event()
        # handler_cancellation: a client that gives up (timeout fault, long poll) frees its
        # handler at once instead of leaving it sleeping.
        runner = web.AppRunner(
            create_app(self), handler_cancellation=True, access_log=None, shutdown_timeout=0.5
        )
        await runner.setup()
        site = web.TCPSite(runner, host, port)
        await site.start()
        self._runner = runner
        bound_port = runner.addresses[0][1]
        self.url = f"http://{host}:{bound_port}"
        return self.url

    async def stop(self) -> None:
        if self._release is not None:
            self._release.set()
        await self.hub.close()
        await self.zalo_bot_hub.close()
        await self.zalo_oa.close()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> Sandbox:
        if self._runner is None:
            await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()


def create_app(sandbox: Sandbox | None = None) -> web.Application:
    """The aiohttp application serving a sandbox (a new one if none is given)."""
    sb = sandbox if sandbox is not None else Sandbox()
    app = web.Application(client_max_size=MAX_UPLOAD)
    control = ControlApi(sb)
    telegram = TelegramApi(sb)
    app.router.add_route("*", "/bot{token}/{method}", telegram.handle)
    app.router.add_get("/file/bot{token}/{path:.+}", telegram.download)
    app.router.add_route("*", "/zalo/bot{token}/{method}", ZaloBotApi(sb).handle)
    sb.zalo_oa.setup(app)
    app.add_subapp("/sandbox/api/", control.app())
    Ui(sb, control).setup(app)
    return app


async def serve(host: str = "127.0.0.1", port: int = 8081) -> None:
    """Run a sandbox until cancelled, after printing one line with its URL."""
    sb = Sandbox()
    url = await sb.start(host, port)
    print(
        f"loa sandbox on {url} (UI {url}/sandbox, Bot API base_url {url}/bot,"
        f" Zalo Bot base_url {url}/zalo)",
        flush=True,
    )
    try:
        await _freeze_long_lived()
    finally:
        await sb.stop()


async def _freeze_long_lived(every: float = 1.0) -> None:
    """Keep full garbage collections short, forever.

    The sandbox stamps each call when it handles it, and its rate limits count those stamps.
    A full collection over a large heap (thousands of chats, a long call log) pauses the
    process for tens of milliseconds; the calls queued meanwhile would then be stamped as a
    burst, as if the client had sent one. Freezing what survived the last second keeps each
    collection to the newest objects.
    """
    while True:
        await asyncio.sleep(every)
        gc.freeze()
