"""Per-bot update queues: long polling (getUpdates) and webhook delivery."""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from itertools import islice

import aiohttp

from .errors import ApiError
from .state import JSON, BotAccount, Webhook

# Telegram's default when allowed_updates is empty/unset: everything except these.
DEFAULT_EXCLUDED = frozenset({"chat_member", "message_reaction", "message_reaction_count"})
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"


class UpdateHub:
    def __init__(
        self,
        *,
        webhook_max_attempts: int = 5,
        webhook_backoff: float = 0.1,
        webhook_backoff_max: float = 2.0,
        webhook_timeout: float = 10.0,
    ) -> None:
        self.webhook_max_attempts = webhook_max_attempts
        self.webhook_backoff = webhook_backoff
        self.webhook_backoff_max = webhook_backoff_max
        self.webhook_timeout = webhook_timeout
        self._pollers: dict[int, asyncio.Future[bool]] = {}
        self._wakeups: dict[int, asyncio.Event] = {}
        self._workers: dict[int, asyncio.Task[None]] = {}
        self._session: aiohttp.ClientSession | None = None

    # --- producing ----------------------------------------------------------------------------

    def emit(self, bot: BotAccount, kind: str, payload: JSON) -> int | None:
        """Queue an update for bot unless its allowed_updates filter it out; return update_id."""
        allowed = bot.allowed_updates
        if (kind not in allowed) if allowed is not None else (kind in DEFAULT_EXCLUDED):
            return None
        update_id = bot.next_update_id
        bot.next_update_id = update_id + 1
        bot.updates.append({"update_id": update_id, kind: payload})
        fut = self._pollers.get(bot.id)
        if fut is not None and not fut.done():
            fut.set_result(True)
        event = self._wakeups.get(bot.id)
        if event is not None:
            event.set()
        return update_id

    # --- long polling -------------------------------------------------------------------------

    @staticmethod
    def confirm(bot: BotAccount, offset: int | None) -> None:
        q = bot.updates
        if offset is None or offset == 0:
            return
        if offset < 0:  # keep only the last -offset updates
            while len(q) > -offset:
                q.popleft()
            return
        while q and q[0]["update_id"] < offset:
            q.popleft()

    async def get_updates(
        self, bot: BotAccount, offset: int | None, limit: int, wait: float
    ) -> list[JSON]:
        if bot.webhook is not None:
            raise ApiError(
                409,
                "Conflict: can't use getUpdates method while webhook is active; "
                "use deleteWebhook to delete the webhook first",
            )
        previous = self._pollers.pop(bot.id, None)
        if previous is not None and not previous.done():
            previous.set_result(False)  # Telegram answers the older request with 409
        self.confirm(bot, offset)
        if not bot.updates and wait > 0:
            fut: asyncio.Future[bool] = asyncio.get_running_loop().create_future()
            self._pollers[bot.id] = fut
            try:
                await asyncio.wait((fut,), timeout=wait)
            finally:
                if self._pollers.get(bot.id) is fut:
                    del self._pollers[bot.id]
            if fut.done() and fut.result() is False:
                raise ApiError(
                    409,
                    "Conflict: terminated by other getUpdates request; "
                    "make sure that only one bot instance is running",
                )
        return list(islice(bot.updates, limit))

    # --- webhooks -----------------------------------------------------------------------------

    def set_webhook(self, bot: BotAccount, webhook: Webhook) -> None:
        bot.webhook = webhook
        poller = self._pollers.pop(bot.id, None)
        if poller is not None and not poller.done():
            poller.set_result(True)
        self._wakeups.setdefault(bot.id, asyncio.Event()).set()
        task = self._workers.get(bot.id)
        if task is None or task.done():
            self._workers[bot.id] = asyncio.create_task(self._deliver(bot))

    def delete_webhook(self, bot: BotAccount) -> None:
        bot.webhook = None
        task = self._workers.pop(bot.id, None)
        if task is not None:
            task.cancel()
        self._wakeups.pop(bot.id, None)

    async def _post(self, webhook: Webhook, update: JSON) -> str | None:
        """POST one update; None on success, else Telegram's last_error_message."""
        if self._session is None:
            self._session = aiohttp.ClientSession()
        headers = {"Content-Type": "application/json"}
        if webhook.secret_token:
            headers[SECRET_HEADER] = webhook.secret_token
        try:
            async with self._session.post(
                webhook.url,
                data=json.dumps(update, ensure_ascii=False).encode(),
                headers=headers,
                timeout=aiohttp.ClientTimeout(total=self.webhook_timeout),
            ) as resp:
                await resp.read()
                if 200 <= resp.status < 300:
                    return None
                return f"Wrong response from the webhook: {resp.status} {resp.reason}"
        except TimeoutError:
            return "Read timeout expired"
        except (aiohttp.ClientError, OSError) as exc:
            return f"Connection failed: {exc.__class__.__name__}"

    async def _deliver(self, bot: BotAccount) -> None:
        """Send pending updates one at a time, in order, with bounded retries."""
        event = self._wakeups.setdefault(bot.id, asyncio.Event())
        attempts = 0
        while True:
            webhook = bot.webhook
            if webhook is None:
                return
            if not bot.updates:
                event.clear()
                await event.wait()
                continue
            update = bot.updates[0]
            error = await self._post(webhook, update)
            if bot.webhook is not webhook:
                attempts = 0
                continue
            if error is None:
                if bot.updates and bot.updates[0] is update:
                    bot.updates.popleft()
                attempts = 0
                continue
            webhook.last_error_date = int(time.time())
            webhook.last_error_message = error
            attempts += 1
            if attempts >= self.webhook_max_attempts:
                if bot.updates and bot.updates[0] is update:
                    bot.updates.popleft()  # give up on this one, as Telegram eventually does
                attempts = 0
                continue
            delay = min(self.webhook_backoff * 2 ** (attempts - 1), self.webhook_backoff_max)
            await asyncio.sleep(delay)

    # --- lifecycle ----------------------------------------------------------------------------

    def forget(self, bot_ids: list[int] | None = None) -> None:
        """Stop workers and release long polls (all bots, or the given ones)."""
        for bot_id in list(self._workers) if bot_ids is None else bot_ids:
            task = self._workers.pop(bot_id, None)
            if task is not None:
                task.cancel()
        for bot_id in list(self._pollers) if bot_ids is None else bot_ids:
            fut = self._pollers.pop(bot_id, None)
            if fut is not None and not fut.done():
                fut.set_result(True)
        if bot_ids is None:
            self._wakeups.clear()

    async def close(self) -> None:
        tasks = list(self._workers.values())
        self.forget()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        if self._session is not None:
            await self._session.close()
            self._session = None
