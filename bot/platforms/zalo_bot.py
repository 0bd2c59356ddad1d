"""Zalo Bot adapter: the Zalo Bot API (Telegram-like, text only) over one aiohttp session.

What differs from Telegram, and where it is handled here (shared/platforms.md, "Zalo Bot"):
- no buttons: `render.for_platform` shows them as numbered replies, and the numbers sent are
  recorded (bot.services.numbered) so that a typed "1" comes back as the button's tap;
- 2000 characters: a longer message leaves as several parts, cut at paragraph boundaries, all
  in the one `send` (one delivery of the item: reach counts people, not parts);
- getUpdates hands out one update and confirms it by doing so; 408 means none came;
- no update_id: an update's key is its event name and message id;
- no member counts, edits or callbacks (capabilities say so);
- `message.unsupported.received` (a minor's or protected sender's message, without content);
- groups show the bot only mentions of it and replies to it: the event says which (the mention
  stripped from the text); a photo is a URL, not a file loa can keep (`keeps_files`).
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
import time
from collections.abc import Mapping
from typing import Any, Final

import aiohttp

from bot.domain import (
    Button,
    ChatType,
    EventKind,
    InboundEvent,
    InboundFile,
    OutboundMessage,
    Platform,
    PlatformUser,
)
from bot.platforms.base import (
    Ambiguous,
    BadRequest,
    Capabilities,
    ChannelLimits,
    ChatGone,
    MalformedUpdate,
    RateLimited,
    Retryable,
    SendError,
    SendResult,
)
from bot.platforms.capabilities import CAPABILITIES as ALL_CAPABILITIES
from bot.platforms.render import for_platform
from bot.services.numbered import NumberedStore
from bot.text import clean_payload
from content.templates import TemplateError, Templates

log = logging.getLogger(__name__)

CAPABILITIES: Final = ALL_CAPABILITIES[Platform.ZALO_BOT]
# Zalo publishes no numeric limits (429 "Quota exceeded" is all): ours, kept well below
# Telegram's, until Zalo says otherwise.
LIMITS: Final = ChannelLimits(global_per_s=10, group_per_min=20, private_per_s=1)
RATE_LIMITED_PAUSE_S: Final = 5.0  # Zalo's 429 carries no retry_after
QUICK_408_S: Final = 1.0  # a long poll answered sooner than this waits out the rest
_COMMAND: Final = re.compile(r"/(\w{1,32})(?:\s+(.*))?", re.DOTALL)
_TEXT: Final = "message.text.received"
_UNSUPPORTED: Final = "message.unsupported.received"
_IMAGE: Final = "message.image.received"
_MAX_URL: Final = 2048
_MAX_ID: Final = 64  # ids are opaque strings; a longer one is not Zalo's


class InvalidToken(Exception):
    """The Zalo Bot API refused the token (401/404): the operator's LOA_ZALO_BOT_TOKEN."""


class ZaloBotAdapter:
    """The `PlatformAdapter` for the Zalo Bot API (or the sandbox's, at `api_url`)."""

    platform: Platform = Platform.ZALO_BOT
    capabilities: Capabilities = CAPABILITIES
    limits: ChannelLimits = LIMITS

    def __init__(
        self,
        token: str,
        api_url: str,
        templates: Templates,
        *,
        numbers: NumberedStore | None = None,
        pool_size: int = 32,
        timeout: float = 10.0,
    ) -> None:
        self._base = f"{api_url.rstrip('/')}/bot{token}"
        self._templates = templates
        self._numbers = numbers
        self._pool_size = pool_size
        self._timeout = timeout
        self._session: aiohttp.ClientSession | None = None
        self.bot_id: str | None = None
        self.name: str | None = None  # the bot's display name: how people mention it

    async def start(self) -> None:
        """Open the connection pool and ask getMe who we are."""
        self._session = aiohttp.ClientSession(
            connector=aiohttp.TCPConnector(limit=self._pool_size),
            json_serialize=lambda o: json.dumps(o, ensure_ascii=False),
        )
        try:
            me = await self._call("getMe", {})
        except Exception:
            await self.stop()
            raise
        if not isinstance(me, dict) or not isinstance(me.get("id"), str | int):
            await self.stop()
            raise BadRequest("getMe answered without an id")
        self.bot_id = str(me["id"])
        name = me.get("display_name") or me.get("account_name")
        self.name = name if isinstance(name, str) and name else None

    async def stop(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def _call(self, method: str, data: dict[str, Any], *, wait: float = 0.0) -> Any:
        """One API call; its `result`, or the contract's typed error. Descriptions are Zalo's:
        no message text."""
        if self._session is None:
            raise Retryable("the adapter is not started")
        url = f"{self._base}/{method}"
        timeout = aiohttp.ClientTimeout(total=self._timeout + wait, connect=self._timeout)
        try:
            async with self._session.post(url, json=data, timeout=timeout) as response:
                status = response.status
                body = await response.read()
        except aiohttp.ClientConnectorError as e:  # no connection: nothing left
            raise Retryable(f"{method}: not sent ({type(e).__name__})") from None
        except (TimeoutError, aiohttp.ClientError) as e:
            raise Ambiguous(f"{method}: no answer ({type(e).__name__})") from None
        try:
            answer = json.loads(body)
        except ValueError:
            answer = None
        if not isinstance(answer, dict):
            if status >= 500:
                raise Retryable(f"{method}: {status}")
            raise Ambiguous(f"{method}: {status}, the answer is not JSON")
        if status == 200 and answer.get("ok") is True:
            return answer.get("result")
        code = answer.get("error_code", status)
        description = str(answer.get("description") or "")[:200]
        raise _typed(method, code if isinstance(code, int) else status, description)

    async def send(self, message: OutboundMessage) -> SendResult:
        """Send the message as Zalo shows it; each part of a long one in turn. If a later part
        fails, the earlier ones have arrived: that is Ambiguous (never sent again blindly)."""
        try:
            shown = for_platform(message, CAPABILITIES, self._templates)
        except TemplateError as e:
            raise BadRequest(f"numbered replies: {type(e).__name__}") from None
        parts = split(shown.text, CAPABILITIES.max_text_length)
        message_id = ""
        for n, part in enumerate(parts):
            try:
                sent = await self._call("sendMessage", {"chat_id": message.chat_id, "text": part})
            except SendError as e:
                if n == 0:
                    raise
                raise Ambiguous(f"part {n + 1} of {len(parts)} not sent: {e}") from None
            got = sent.get("message_id") if isinstance(sent, dict) else None
            if not isinstance(got, str | int) or isinstance(got, bool):
                raise Ambiguous("sendMessage answered without a message_id")
            message_id = str(got)
        await self._remember(message.chat_id, message_id, message.buttons)
        return SendResult(message_id=message_id)

    async def _remember(self, chat_id: str, message_id: str, buttons: tuple[Button, ...]) -> None:
        """What the numbers in this chat now mean. The message has left: a failure here must
        not fail the send (it would be sent again); the person's "1" then reads as text."""
        if self._numbers is None:
            return
        try:
            await self._numbers.shown(self.platform, chat_id, message_id, buttons)
        except Exception as e:
            log.warning("zalo_bot: numbered replies not recorded: %s", type(e).__name__)

    async def edit_text(
        self, chat_id: str, message_id: str, text: str, buttons: tuple[Button, ...] = ()
    ) -> None:
        raise BadRequest("the Zalo Bot API cannot edit a message")

    async def answer_button(self, callback_id: str, text: str | None = None) -> None:
        """Zalo has no callbacks: a numbered reply's answer is a message (Context)."""

    async def member_count(self, chat_id: str) -> int:
        raise BadRequest("the Zalo Bot API does not count a chat's members")

    def start_link(self, payload: str) -> str | None:
        return None  # no deep links: the person types the invite code to the bot

    async def poll(self, timeout: float) -> list[dict[str, Any]]:
        """getUpdates: one update, handed out (so confirmed) by the answer; 408 when none came.
        An update lost between Zalo's answer and the database is lost: Zalo keeps no offset."""
        asked = time.monotonic()
        try:
            update = await self._call("getUpdates", {"timeout": int(timeout)}, wait=timeout)
        except _NoUpdate:
            # A server that answers 408 at once, ignoring the timeout, must not spin the loop.
            early = min(timeout, QUICK_408_S) - (time.monotonic() - asked)
            if early > 0:
                await asyncio.sleep(early)
            return []
        if not isinstance(update, dict):
            return []
        try:
            return [clean_payload(update)]
        except ValueError as e:
            log.warning("zalo_bot: a polled update dropped: %s", e)
            return []

    async def set_webhook(self, url: str, secret: str) -> None:
        await self._call("setWebhook", {"url": url, "secret_token": secret})

    async def delete_webhook(self) -> None:
        await self._call("deleteWebhook", {})

    def update_key(self, raw: Mapping[str, Any]) -> str:
        update = _update(raw)
        event_name = _str(update.get("event_name"), "event_name")
        message = _obj(update.get("message"), "message")
        return f"{event_name}:{_id(message.get('message_id'), 'message.message_id')}"[:128]

    def parse_update(self, raw: Mapping[str, Any]) -> InboundEvent | None:
        """Every string is cleaned first (`clean_text`), as Telegram's are."""
        self.update_key(raw)
        try:
            update = _update(clean_payload(raw))
        except ValueError as e:
            raise MalformedUpdate(str(e)) from None
        event_name = update["event_name"]
        msg = _obj(update["message"], "message")
        chat = _obj(msg.get("chat"), "message.chat")
        chat_id = _id(chat.get("id"), "message.chat.id")
        chat_type = ChatType.PRIVATE if chat.get("chat_type") == "PRIVATE" else ChatType.GROUP
        user = _user(msg.get("from")) if msg.get("from") is not None else None
        if user is not None and user.is_bot:
            return None
        common: dict[str, Any] = {
            "chat_id": chat_id,
            "chat_type": chat_type,
            "user": user,
            "message_id": _id(msg.get("message_id"), "message.message_id"),
        }
        if event_name == _UNSUPPORTED:
            return InboundEvent(Platform.ZALO_BOT, EventKind.UNSUPPORTED, **common)
        file, text = None, msg.get("text")
        if event_name == _IMAGE:
            file, text = _photo(msg, common["message_id"]), msg.get("caption") or ""
        elif event_name != _TEXT:
            return None  # stickers: nothing loa reads, as on Telegram
        if not isinstance(text, str):
            raise MalformedUpdate("message.text is not a string")
        mentioned = False
        if chat_type is ChatType.GROUP:
            text, mentioned = self._unmentioned(text)
        command, args = None, ""
        if match := _COMMAND.fullmatch(text.strip()):
            command, args = match[1].lower(), (match[2] or "").strip()
        # In a group Zalo shows the bot only mentions of it and replies to it, and the update
        # does not say which message a reply answers: what does not mention loa replies to it.
        in_group = chat_type is ChatType.GROUP
        return InboundEvent(
            Platform.ZALO_BOT, EventKind.MESSAGE, text=text, command=command, args=args,
            mentions_bot=in_group and mentioned, reply_to_bot=in_group and not mentioned,
            file=file, **common,
        )  # fmt: skip

    def _unmentioned(self, text: str) -> tuple[str, bool]:
        """A group message reaches the bot by mentioning it: "@Loa 1" is "1" to loa. Also
        whether the mention was there (a bot whose name getMe did not give cannot tell)."""
        found = False
        if self.name:
            pattern = rf"@{re.escape(self.name)}\b"
            text, n = re.subn(pattern, " ", text, count=1, flags=re.IGNORECASE)
            found = n > 0
        return (" ".join(text.split()) if "\n" not in text else text.strip()), found


class _NoUpdate(SendError):
    """408: no update came within the long poll's timeout."""


def _typed(method: str, code: int, description: str) -> Exception:
    where = f"{method}: {code} {description}".strip()
    if code == 408 and method == "getUpdates":
        return _NoUpdate(where)
    if code == 429:
        return RateLimited(RATE_LIMITED_PAUSE_S, where)
    if code in (401, 404) and method == "getMe":
        return InvalidToken("the Zalo Bot API rejected the bot token (LOA_ZALO_BOT_TOKEN)")
    if code == 403:
        return ChatGone(where)
    if code == 400 and "chat not found" in description.lower():
        return ChatGone(where)
    if code >= 500 or code in (408, 409):
        return Retryable(where)
    return BadRequest(where)


def split(text: str, limit: int) -> list[str]:
    """`text` in parts of at most `limit` characters, cut at paragraph boundaries (blank lines),
    else at line ends, else at spaces; a part is never empty. The numbered replies, at the
    end, stay together in the last part when they fit."""
    if len(text) <= limit:
        return [text]
    parts: list[str] = []
    rest = text
    while len(rest) > limit:
        window = rest[: limit + 1]
        cut = next(
            (i for sep in ("\n\n", "\n", " ") if (i := window.rfind(sep)) > 0),
            limit,
        )
        part = rest[:cut].rstrip()
        parts.append(part if part else rest[:limit])
        rest = rest[cut:].lstrip() if part else rest[limit:]
    if rest:
        parts.append(rest)
    return parts


def _update(raw: Mapping[str, Any]) -> Mapping[str, Any]:
    """The update itself: webhooks POST it in the envelope ({ok, result}), getUpdates' result
    is the update alone (the adapter stores that)."""
    if "event_name" not in raw and isinstance(raw.get("result"), Mapping):
        return _obj(raw["result"], "result")
    return raw


def _photo(msg: Mapping[str, Any], message_id: str) -> InboundFile:
    """Zalo gives a photo as a URL on its servers (`photo_url`), no file id: the event says a
    photo came, and `capabilities.keeps_files` (False) tells the handlers loa cannot keep it.
    Without a usable URL it is still a photo: the sender is told the same, kindly."""
    url = msg.get("photo_url")
    kept = url if isinstance(url, str) and 0 < len(url) <= _MAX_URL else ""
    return InboundFile("photo", kept, message_id)


def _user(raw: Any) -> PlatformUser:
    user = _obj(raw, "message.from")
    name = user.get("display_name")
    return PlatformUser(
        _id(user.get("id"), "message.from.id"),
        name if isinstance(name, str) else "",
        is_bot=user.get("is_bot") is True,
    )


def _obj(value: Any, where: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise MalformedUpdate(f"{where} is not an object")
    return value


def _str(value: Any, where: str) -> str:
    if not isinstance(value, str) or not value:
        raise MalformedUpdate(f"{where} is not a string")
    return value


def _id(value: Any, where: str) -> str:
    """Zalo's ids are strings; numbers are taken as their decimal form."""
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, str) or not 0 < len(value) <= _MAX_ID or not value.isprintable():
        raise MalformedUpdate(f"{where} is not an id")
    return value
