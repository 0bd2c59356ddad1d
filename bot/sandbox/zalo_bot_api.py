"""The fake Zalo Bot API: `/zalo/bot<TOKEN>/<method>` (Telegram-like, with Zalo's differences).

Differences from the Bot API that clients depend on (shared/platforms.md, "Zalo Bot"):
getUpdates answers ONE update, not a list, and 408 when none came within its timeout; updates
have no update_id (an update is confirmed by being handed out); webhooks carry the secret in
`X-Bot-Api-Secret-Token` and the body `{ok, result}`; texts are plain, at most 2000 characters;
ids are strings; dates are in milliseconds. In groups the bot sees only messages that mention
it or reply to one of its messages. Faults and limits are the control API's, as for Telegram.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import re
import time
from collections import deque
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

import aiohttp
from aiohttp import web

from .errors import ApiError
from .params import Params, Upload, read_params
from .state import GROUP_ID_BASE, JSON, BotAccount, Chat, LogEntry, Message, User

if TYPE_CHECKING:
    from .app import Sandbox

log = logging.getLogger(__name__)

PLATFORM = "zalo_bot"
SECRET_HEADER = "X-Bot-Api-Secret-Token"
MAX_TEXT = 2000
MAX_POLL_S = 50.0
# Chat ids on Zalo are opaque strings; the sandbox keeps ints apart from Telegram's ranges.
PRIVATE_BASE = 7_000_000_000_000
GROUP_BASE = 8_000_000_000_000
SECRET_RE = re.compile(r"[A-Za-z0-9_-]{8,256}")
TOKEN_RE = re.compile(r"([1-9][0-9]{0,19}):([A-Za-z0-9_-]{10,})")
# What a person can send: the event each produces (minors' and protected senders' messages
# come as "unsupported", without their content).
EVENTS = {
    "text": "message.text.received",
    "image": "message.image.received",
    "sticker": "message.sticker.received",
    "unsupported": "message.unsupported.received",
}
RATE_LIMITED = frozenset({"sendmessage", "sendphoto", "sendsticker"})

Method = Callable[[BotAccount, Params], Awaitable[Any]]


def private_chat_id(user_id: int) -> int:
    """A person's one-to-one chat with Zalo bots, and their Zalo id (as a private chat's id is
    its person's on Telegram): apart from their Telegram ids."""
    return PRIVATE_BASE + user_id


def group_chat_id(telegram_group_id: int) -> int:
    """A Zalo group's id, numbered along with Telegram's basic groups (-4000000001 → …0001)."""
    return GROUP_BASE + (-telegram_group_id - GROUP_ID_BASE)


def message_key(chat: Chat, message_id: int) -> str:
    """A message id unique across chats, as Zalo's are (dedupe keys rest on it)."""
    return f"{chat.id:x}{message_id:08x}"


def _error(code: int, description: str) -> ApiError:
    return ApiError(code, description)


class ZaloBotHub:
    """Pending updates of each Zalo bot: one per getUpdates, or POSTed to its webhook."""

    def __init__(self, *, webhook_timeout: float = 10.0, max_attempts: int = 5) -> None:
        self.queues: dict[int, deque[JSON]] = {}
        self.webhooks: dict[int, tuple[str, str]] = {}  # bot id -> (url, secret)
        self.webhook_timeout = webhook_timeout
        self.max_attempts = max_attempts
        self._arrived: dict[int, asyncio.Event] = {}
        self._workers: dict[int, asyncio.Task[None]] = {}
        self._session: aiohttp.ClientSession | None = None

    def emit(self, bot: BotAccount, update: JSON) -> None:
        self.queues.setdefault(bot.id, deque()).append(update)
        self._arrived.setdefault(bot.id, asyncio.Event()).set()

    async def next_update(self, bot: BotAccount, wait: float) -> JSON | None:
        queue = self.queues.setdefault(bot.id, deque())
        arrived = self._arrived.setdefault(bot.id, asyncio.Event())
        deadline = time.monotonic() + wait
        while not queue:
            arrived.clear()
            left = deadline - time.monotonic()
            if left <= 0:
                return None
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(arrived.wait(), left)
        return queue.popleft()

    def set_webhook(self, bot: BotAccount, url: str, secret: str) -> None:
        self.webhooks[bot.id] = (url, secret)
        task = self._workers.get(bot.id)
        if task is None or task.done():
            self._workers[bot.id] = asyncio.create_task(self._deliver(bot))
        self._arrived.setdefault(bot.id, asyncio.Event()).set()

    def delete_webhook(self, bot: BotAccount) -> None:
        self.webhooks.pop(bot.id, None)
        task = self._workers.pop(bot.id, None)
        if task is not None:
            task.cancel()

    async def _deliver(self, bot: BotAccount) -> None:
        """POST pending updates in order; an update refused `max_attempts` times is dropped."""
        queue = self.queues.setdefault(bot.id, deque())
        arrived = self._arrived.setdefault(bot.id, asyncio.Event())
        attempts = 0
        while bot.id in self.webhooks:
            if not queue:
                arrived.clear()
                await arrived.wait()
                continue
            url, secret = self.webhooks[bot.id]
            if await self._post(url, secret, queue[0]):
                queue.popleft()
                attempts = 0
                continue
            attempts += 1
            if attempts >= self.max_attempts:
                queue.popleft()
                attempts = 0
            await asyncio.sleep(min(0.1 * 2**attempts, 2.0))

    async def _post(self, url: str, secret: str, update: JSON) -> bool:
        if self._session is None:
            self._session = aiohttp.ClientSession()
        body = json.dumps({"ok": True, "result": update}, ensure_ascii=False).encode()
        headers = {"Content-Type": "application/json", SECRET_HEADER: secret}
        timeout = aiohttp.ClientTimeout(total=self.webhook_timeout)
        try:
            async with self._session.post(url, data=body, headers=headers, timeout=timeout) as r:
                await r.read()
                return 200 <= r.status < 300
        except (TimeoutError, aiohttp.ClientError, OSError):
            return False

    def forget(self) -> None:
        for task in self._workers.values():
            task.cancel()
        self._workers.clear()
        self.webhooks.clear()
        self.queues.clear()
        for event in self._arrived.values():
            event.set()  # long polls answer now (408)
        self._arrived.clear()

    async def close(self) -> None:
        tasks = list(self._workers.values())
        self.forget()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        if self._session is not None:
            await self._session.close()
            self._session = None


# --- the world's side: people write to Zalo chats ------------------------------------------------


def user_json(user: User) -> JSON:
    """A person as Zalo shows them to bots: their Zalo id is their private chat's id."""
    name = " ".join(p for p in (user.first_name, user.last_name) if p)
    return {"id": str(private_chat_id(user.id)), "display_name": name, "is_bot": False}


def chat_json(chat: Chat) -> JSON:
    return {"id": str(chat.id), "chat_type": "PRIVATE" if chat.type == "private" else "GROUP"}


def update_json(chat: Chat, msg: Message, user: User, kind: str) -> JSON:
    message: JSON = {
        "from": user_json(user),
        "chat": chat_json(chat),
        "message_id": message_key(chat, msg.message_id),
        "date": msg.date * 1000,
    }
    if kind == "text":
        message["text"] = msg.text
    elif kind == "image":
        message["photo_url"] = f"https://sandbox.invalid/photo/{message['message_id']}.jpg"
        if msg.caption:
            message["caption"] = msg.caption
    elif kind == "sticker":
        message["sticker"] = "sandbox-sticker"
        message["url"] = f"https://sandbox.invalid/sticker/{message['message_id']}.png"
    return {"event_name": EVENTS[kind], "message": message}


def sees(bot: BotAccount, chat: Chat, msg: Message) -> bool:
    """Zalo Bot groups are a trial: the bot sees only mentions of it and replies to it."""
    if chat.type == "private":
        return True
    if msg.reply_to is not None:
        replied = chat.messages.get(msg.reply_to)
        if replied is not None and replied.sender_id == bot.id:
            return True
    text = (msg.text or msg.caption or "").lower()
    names = {bot.user.first_name, bot.user.username or ""} - {""}
    return any(f"@{name.lower()}" in text for name in names)


def person_writes(sb: Sandbox, chat: Chat, user: User, msg: Message, kind: str) -> None:
    """Hand a person's message to the Zalo bots in the chat that may see it."""
    for bot in sb.state.bot_members(chat):
        if sees(bot, chat, msg):
            update = update_json(chat, msg, user, kind)
            if kind == "unsupported":
                update["message"].pop("text", None)
            sb.zalo_bot_hub.emit(bot, update)


# --- the API --------------------------------------------------------------------------------------


class ZaloBotApi:
    def __init__(self, sb: Sandbox) -> None:
        self.sb = sb
        table: dict[str, Method] = {
            "getMe": self.get_me,
            "getUpdates": self.get_updates,
            "setWebhook": self.set_webhook,
            "deleteWebhook": self.delete_webhook,
            "getWebhookInfo": self.get_webhook_info,
            "sendMessage": self.send_message,
            "sendPhoto": self.send_photo,
            "sendSticker": self.send_sticker,
            "sendChatAction": self.send_chat_action,
        }
        self.methods = {k.lower(): (k, v) for k, v in table.items()}

    async def handle(self, request: web.Request) -> web.StreamResponse:
        t = time.time()
        raw_method = request.match_info["method"]
        entry = self.methods.get(raw_method.lower())
        name = entry[0] if entry is not None else raw_method
        bot: BotAccount | None = None
        raw: dict[str, Any] = {}
        fault_kind: str | None = None
        try:
            raw = await read_params(request)
            bot = self._bot(request.match_info["token"])
            if entry is None:
                raise _error(404, "Not Found")
            chat_key = raw.get("chat_id")
            fault = self.sb.faults.match(name.lower(), None if chat_key is None else str(chat_key))
            if fault is not None:
                fault_kind = str(fault.status)
                if fault.status == "drop":
                    self._log(t, name, bot, raw, 0, fault_kind)
                    transport = request.transport
                    if transport is not None:
                        transport.abort()
                    raise asyncio.CancelledError
                if fault.status == 429:
                    raise _error(429, "Quota exceeded")
                if fault.status != "timeout":
                    raise fault.error()
            result = await entry[1](bot, Params(raw))
            status, body = 200, {"ok": True, "result": result}
        except ApiError as exc:
            status, body = (
                exc.code,
                {
                    "ok": False,
                    "error_code": exc.code,
                    "description": exc.description,
                },
            )
        except Exception:  # a sandbox bug: answer as a server failure, keep serving
            log.exception("sandbox failed on zalo %s", name)
            status, body = 500, {"ok": False, "error_code": 500, "description": "Internal error"}
        self._log(t, name, bot, raw, status, fault_kind)
        response = web.json_response(body, status=status, dumps=_dumps)
        if fault_kind == "timeout":
            await self.sb.hold()
        return response

    def _log(
        self, t: float, name: str, bot: BotAccount | None, raw: JSON, status: int, fault: str | None
    ) -> None:
        raw = {k: v.describe() if isinstance(v, Upload) else v for k, v in raw.items()}
        chat = raw.get("chat_id")
        self.sb.state.log.append(
            LogEntry(t, PLATFORM, name, bot.id if bot else None, chat, status, raw, fault)
        )

    def _bot(self, token: str) -> BotAccount:
        bot = self.sb.state.bots_by_token.get(token)
        if bot is not None:
            return bot
        m = TOKEN_RE.fullmatch(token)
        if m is None:
            raise _error(401, "Unauthorized")
        known = self.sb.state.bots.get(int(m.group(1)))
        if known is not None and known.token:
            raise _error(401, "Unauthorized")
        return self.sb.register_bot(token)

    def _chat(self, bot: BotAccount, p: Params) -> Chat:
        ref = p.text("chat_id")
        if not ref:
            raise _error(400, "chat_id is required")
        try:
            chat = self.sb.state.chats.get(int(ref))
        except ValueError:
            chat = None
        if chat is None or chat.platform != PLATFORM:
            raise _error(400, "Chat not found")
        if not chat.is_member(bot.id):
            raise _error(403, "Bot is not allowed to send to this chat")
        return chat

    def _throttle(self, bot: BotAccount, chat: Chat) -> float:
        now = time.monotonic()
        limiter = self.sb.limiter
        if limiter.active and limiter.check(bot.id, chat.id, chat.type == "private", now):
            raise _error(429, "Quota exceeded")
        return now

    def _store(self, bot: BotAccount, chat: Chat, now: float, **fields: Any) -> JSON:
        msg = Message(chat.take_message_id(), chat.id, int(time.time()), bot.id, **fields)
        chat.messages[msg.message_id] = msg
        if self.sb.limiter.active:
            self.sb.limiter.record(bot.id, chat.id, chat.type == "private", now)
        return {
            "message_id": message_key(chat, msg.message_id),
            "date": msg.date * 1000,
            "chat": chat_json(chat),
            "message_type": "CHAT_MESSAGE",
        }

    async def get_me(self, bot: BotAccount, p: Params) -> JSON:
        return {
            "id": str(bot.id),
            "account_name": bot.user.username,
            "account_type": "BASIC",
            "can_join_groups": True,
            "display_name": bot.user.first_name,
        }

    async def get_updates(self, bot: BotAccount, p: Params) -> JSON:
        if bot.id in self.sb.zalo_bot_hub.webhooks:
            raise _error(409, "Conflict: webhook is active; use deleteWebhook first")
        wait = max(0.0, min(p.number("timeout") or 0.0, MAX_POLL_S))
        update = await self.sb.zalo_bot_hub.next_update(bot, wait)
        if update is None:
            raise _error(408, "Request timeout")
        return update

    async def set_webhook(self, bot: BotAccount, p: Params) -> JSON:
        url = (p.text("url") or "").strip()
        if not re.match(r"https?://[^\s/]+", url, re.IGNORECASE):
            raise _error(400, "url must be an HTTPS URL")
        secret = p.text("secret_token") or ""
        if not SECRET_RE.fullmatch(secret):
            raise _error(400, "secret_token must be 8-256 characters of A-Z, a-z, 0-9, _ and -")
        self.sb.zalo_bot_hub.set_webhook(bot, url, secret)
        return {"url": url, "updated_at": int(time.time() * 1000)}

    async def delete_webhook(self, bot: BotAccount, p: Params) -> JSON:
        self.sb.zalo_bot_hub.delete_webhook(bot)
        return {"url": "", "updated_at": int(time.time() * 1000)}

    async def get_webhook_info(self, bot: BotAccount, p: Params) -> JSON:
        url, _ = self.sb.zalo_bot_hub.webhooks.get(bot.id, ("", ""))
        return {"url": url, "updated_at": int(time.time() * 1000)}

    async def send_message(self, bot: BotAccount, p: Params) -> JSON:
        chat = self._chat(bot, p)
        text = p.text("text")
        if not text:
            raise _error(400, "text is required")
        if len(text) > MAX_TEXT:
            raise _error(400, "text too long")
        now = self._throttle(bot, chat)
        return self._store(bot, chat, now, text=text)

    async def send_photo(self, bot: BotAccount, p: Params) -> JSON:
        chat = self._chat(bot, p)
        photo = p.get("photo")
        if not photo:
            raise _error(400, "photo is required")
        caption = p.text("caption")
        if caption is not None and len(caption) > MAX_TEXT:
            raise _error(400, "caption too long")
        url = photo if isinstance(photo, str) else "upload"
        now = self._throttle(bot, chat)
        return self._store(bot, chat, now, caption=caption, photo=[{"url": url}])

    async def send_sticker(self, bot: BotAccount, p: Params) -> JSON:
        chat = self._chat(bot, p)
        sticker = p.text("sticker")
        if not sticker:
            raise _error(400, "sticker is required")
        now = self._throttle(bot, chat)
        return self._store(bot, chat, now, document={"sticker": sticker})

    async def send_chat_action(self, bot: BotAccount, p: Params) -> bool:
        self._chat(bot, p)
        if (p.text("action") or "") not in ("typing", "upload_photo"):
            raise _error(400, "action must be typing or upload_photo")
        return True


def _dumps(obj: Any) -> str:
    return json.dumps(obj, ensure_ascii=False, separators=(",", ":"))
