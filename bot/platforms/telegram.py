"""Telegram adapter: PTB's `Bot` over the aiohttp transport, typed errors, raw-update parsing."""

from __future__ import annotations

import logging
import re
import warnings
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from datetime import timedelta
from typing import Any, Final

import telegram.error as tg
from telegram import Bot, LinkPreviewOptions
from telegram.constants import ParseMode
from telegram.warnings import PTBDeprecationWarning

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
from bot.platforms.aiohttp_request import AiohttpRequest, NotSent
from bot.platforms.base import (
    Ambiguous,
    BadRequest,
    Capabilities,
    ChannelLimits,
    ChatGone,
    ChatMigrated,
    MalformedUpdate,
    RateLimited,
    Retryable,
    SendResult,
)
from bot.platforms.capabilities import CAPABILITIES as ALL_CAPABILITIES
from bot.text import clean_payload

# Telegram's published limits, in one place: 30 messages/s in bulk, 20/min per group, 1/s per chat.
LIMITS: Final = ChannelLimits(global_per_s=30, group_per_min=20, private_per_s=1)
CAPABILITIES: Final = ALL_CAPABILITIES[Platform.TELEGRAM]
ALLOWED_UPDATES: Final = (
    "message",
    "edited_message",
    "callback_query",
    "poll_answer",
    "poll",
    "my_chat_member",
    "chat_member",
    "message_reaction",
    "message_reaction_count",
)
# Telegram's ids (updates, chats, users, messages) fit a signed 64-bit integer.
_INT64: Final = range(-(2**63), 2**63)

log = logging.getLogger(__name__)

_NO_PREVIEW: Final = LinkPreviewOptions(is_disabled=True)
# 400 answers that mean the chat is not there for us any more (compared in lower case).
_CHAT_GONE_400: Final = ("chat not found", "group chat was deactivated", "peer_id_invalid")
# A command's name may be typed with diacritics ("/tôi"): the router folds it.
_COMMAND: Final = re.compile(r"/(\w{1,32})(?:@([A-Za-z0-9_]+))?(?:\s+(.*))?", re.DOTALL)
_IN_CHAT: Final = frozenset({"creator", "administrator", "member"})


def _retry_after(err: tg.RetryAfter) -> float:
    with warnings.catch_warnings():  # PTB 22 warns that an int will become a timedelta
        warnings.simplefilter("ignore", PTBDeprecationWarning)
        value = err.retry_after
    return value.total_seconds() if isinstance(value, timedelta) else float(value)


@contextmanager
def _typed_errors() -> Iterator[None]:
    """Turn PTB's errors into the contract's. Descriptions are Telegram's: no message text."""
    try:
        yield
    except tg.RetryAfter as err:
        raise RateLimited(_retry_after(err), err.message) from None
    except tg.ChatMigrated as err:
        raise ChatMigrated(str(err.new_chat_id)) from None
    except tg.Forbidden as err:
        raise ChatGone(err.message) from None
    except tg.BadRequest as err:
        if any(phrase in err.message.lower() for phrase in _CHAT_GONE_400):
            raise ChatGone(err.message) from None
        raise BadRequest(err.message) from None
    except tg.InvalidToken:
        raise  # 401/404: the operator's token (or a server without this method)
    except tg.Conflict as err:  # 409: refused (a webhook is set, or another poller runs)
        raise Retryable(err.message) from None
    except NotSent as err:
        raise Retryable(err.message) from None
    except tg.TimedOut as err:  # our MaybeSent: the request left and no answer came back
        raise Ambiguous(err.message) from None
    except tg.NetworkError as err:  # a 5xx (or another status PTB has no class for)
        raise Retryable(err.message) from None
    except tg.TelegramError as err:  # e.g. a 2xx whose body is not JSON: it reached the server
        raise Ambiguous(err.message) from None


def _keyboard(buttons: tuple[Button, ...]) -> dict[str, Any]:
    """One button a row; Telegram refuses callback data outside 1-64 bytes, so do we. A label
    longer than Telegram shows is cut, with an ellipsis."""
    most = CAPABILITIES.max_callback_bytes
    for button in buttons:
        if not 1 <= len(button.data.encode()) <= most:
            raise BadRequest(f"callback data must be 1-{most} bytes")
    return {
        "inline_keyboard": [[{"text": _fit(b.label), "callback_data": b.data}] for b in buttons]
    }


def _fit(label: str) -> str:
    longest = CAPABILITIES.max_button_label
    return label if len(label) <= longest else label[: longest - 1] + "…"


class TelegramAdapter:
    """The `PlatformAdapter` for the Telegram Bot API (or the sandbox at `api_url`)."""

    platform: Platform = Platform.TELEGRAM
    capabilities: Capabilities = CAPABILITIES
    limits: ChannelLimits = LIMITS

    def __init__(
        self, token: str, api_url: str, *, pool_size: int = 64, timeout: float = 10.0
    ) -> None:
        self._timeout = timeout
        self._offset: int | None = None
        self._bot = Bot(
            token,
            base_url=f"{api_url.rstrip('/')}/bot",
            base_file_url=f"{api_url.rstrip('/')}/file/bot",
            request=AiohttpRequest(
                pool_size, read_timeout=timeout, connect_timeout=timeout, pool_timeout=timeout
            ),
            get_updates_request=AiohttpRequest(
                1, read_timeout=timeout, connect_timeout=timeout, pool_timeout=timeout
            ),
        )

    @property
    def bot_id(self) -> str:
        """The bot's user id (RuntimeError before start())."""
        return str(self._bot.id)

    @property
    def username(self) -> str:
        """The bot's @username without the @ (RuntimeError before start())."""
        return self._bot.username

    async def start(self) -> None:
        """Open the connection pools and ask getMe who we are."""
        try:
            with _typed_errors():
                await self._bot.initialize()
        except tg.InvalidToken:
            await self._bot.shutdown()
            raise tg.InvalidToken("the Bot API server rejected the bot token") from None
        except Exception:
            await self._bot.shutdown()
            raise

    async def stop(self) -> None:
        await self._bot.shutdown()

    async def send(self, message: OutboundMessage) -> SendResult:
        data: dict[str, Any] = {
            "chat_id": message.chat_id,
            "text": message.text,
            "parse_mode": ParseMode.HTML,
            "link_preview_options": _NO_PREVIEW,
        }
        _check_length(message.text)
        if message.buttons:
            data["reply_markup"] = _keyboard(message.buttons)
        if message.reply_to_message_id is not None:
            data["reply_parameters"] = {
                "message_id": _message_id(message.reply_to_message_id),
                "allow_sending_without_reply": True,
            }
        # Not `Bot.send_message`: building its Message object costs a third of a send's CPU,
        # and loa keeps only the id.
        with _typed_errors():
            sent = await self._bot._post("sendMessage", data)
        message_id = sent.get("message_id") if isinstance(sent, dict) else None
        if isinstance(message_id, bool) or not isinstance(message_id, int):
            raise Ambiguous("sendMessage answered without a message_id")
        return SendResult(message_id=str(message_id))

    async def edit_text(
        self, chat_id: str, message_id: str, text: str, buttons: tuple[Button, ...] = ()
    ) -> None:
        """Replace a message's text and buttons (none: the old ones go). Editing to the same
        text is not an error."""
        data: dict[str, Any] = {
            "chat_id": chat_id,
            "message_id": _message_id(message_id),
            "text": text,
            "parse_mode": ParseMode.HTML,
            "link_preview_options": _NO_PREVIEW,
        }
        _check_length(text)
        if buttons:
            data["reply_markup"] = _keyboard(buttons)
        try:
            with _typed_errors():
                await self._bot._post("editMessageText", data)
        except BadRequest as err:
            if "message is not modified" not in str(err).lower():
                raise

    async def answer_button(self, callback_id: str, text: str | None = None) -> None:
        with _typed_errors():
            await self._bot.answer_callback_query(callback_id, text=text)

    async def member_count(self, chat_id: str) -> int:
        """The people in a chat: Telegram's count less the bot itself."""
        with _typed_errors():
            return max(0, await self._bot.get_chat_member_count(chat_id) - 1)

    async def download(self, file_id: str) -> bytes:
        """The bytes of a file a person sent (getFile, then its download; at most 20 MB)."""
        with _typed_errors():
            file = await self._bot.get_file(file_id)
            return bytes(await file.download_as_bytearray())

    def start_link(self, payload: str) -> str | None:
        """t.me deep link: Telegram sends "/start <payload>" when the person opens it."""
        return f"https://t.me/{self.username}?start={payload}"

    async def poll(self, timeout: float) -> list[dict[str, Any]]:
        """getUpdates; passing offset = last update_id + 1 confirms the previous batch."""
        data: dict[str, Any] = {
            "timeout": int(timeout),
            "offset": self._offset,
            "allowed_updates": list(ALLOWED_UPDATES),
        }
        with _typed_errors():
            # `Bot.get_updates` would hand back parsed objects; loa persists the raw dicts.
            updates: list[dict[str, Any]] = await self._bot._post(
                "getUpdates", data, read_timeout=self._timeout + int(timeout)
            )
        # A broken update is the caller's to reject (update_key); it must not stall the queue.
        ids = [u.get("update_id") for u in updates if isinstance(u, dict)]
        valid = [i for i in ids if isinstance(i, int) and not isinstance(i, bool)]
        if valid:
            self._offset = max(valid) + 1
        return [clean for u in updates if (clean := _cleaned(u)) is not None]

    async def set_webhook(self, url: str, secret: str) -> None:
        with _typed_errors():
            await self._bot.set_webhook(
                url, secret_token=secret, allowed_updates=list(ALLOWED_UPDATES)
            )

    async def delete_webhook(self) -> None:
        with _typed_errors():
            await self._bot.delete_webhook()

    def update_key(self, raw: Mapping[str, Any]) -> str:
        update_id = _int(_obj(raw, "update").get("update_id"), "update_id")
        if update_id < 0:
            raise MalformedUpdate("update_id is negative")
        return str(update_id)

    def parse_update(self, raw: Mapping[str, Any]) -> InboundEvent | None:
        """Every string of the update is cleaned first (`clean_text`): a name or text with NUL,
        control characters or lone surrogates must not fail in the database, again and again."""
        self.update_key(raw)
        try:
            raw = clean_payload(raw)
        except ValueError as e:
            raise MalformedUpdate(str(e)) from None
        if raw.get("message") is not None:
            return self._message(_obj(raw["message"], "message"))
        if raw.get("callback_query") is not None:
            return _button(_obj(raw["callback_query"], "callback_query"))
        if raw.get("poll_answer") is not None:
            return _poll_answer(_obj(raw["poll_answer"], "poll_answer"))
        if raw.get("my_chat_member") is not None:
            return _membership(_obj(raw["my_chat_member"], "my_chat_member"))
        return None

    def _message(self, msg: Mapping[str, Any]) -> InboundEvent | None:
        chat_id, chat_type, title = _chat(msg.get("chat"), "message.chat")
        message_id = str(_int(msg.get("message_id"), "message.message_id"))
        user = _user(msg["from"], "message.from") if msg.get("from") is not None else None
        if msg.get("migrate_to_chat_id") is not None:
            new_id = _int(msg["migrate_to_chat_id"], "message.migrate_to_chat_id")
            return InboundEvent(
                Platform.TELEGRAM,
                EventKind.CHAT_MIGRATED,
                chat_id=chat_id,
                chat_type=chat_type,
                chat_title=title,
                user=user,
                new_chat_id=str(new_id),
            )
        text = msg.get("text")
        file = _file(msg)
        if file is not None:
            caption = msg.get("caption")
            text = caption if isinstance(caption, str) else ""
        if not isinstance(text, str):
            return None  # stickers, voice, service messages: nothing loa reads
        command, args = None, ""
        if match := _COMMAND.fullmatch(text):
            addressee = match[2]
            if addressee and self._bot_username() not in (None, addressee.lower()):
                return None  # "/start@otherbot": not for us
            command, args = match[1].lower(), (match[3] or "").strip()
        replied = None
        if msg.get("reply_to_message") is not None:
            replied = _obj(msg["reply_to_message"], "message.reply_to_message")
        return InboundEvent(
            Platform.TELEGRAM,
            EventKind.MESSAGE,
            chat_id=chat_id,
            chat_type=chat_type,
            chat_title=title,
            user=user,
            text=text,
            command=command,
            args=args,
            message_id=message_id,
            reply_to_message_id=None if replied is None else str(replied.get("message_id")),
            reply_to_bot=replied is not None and self._from_us(replied),
            reply_to_text=None if replied is None else _text_of(replied),
            mentions_bot=self._mentioned(text, msg.get("caption_entities" if file else "entities")),
            file=file,
        )

    def _from_us(self, msg: Mapping[str, Any]) -> bool:
        sender = msg.get("from")
        # The token starts with the bot's id: known before start(), unlike getMe's answer.
        bot_id = self._bot.token.partition(":")[0]
        return isinstance(sender, Mapping) and str(sender.get("id")) == bot_id

    def _mentioned(self, text: str, entities: Any) -> bool:
        """Whether a "mention" entity names us (offsets are UTF-16 code units)."""
        name = self._bot_username()
        if name is None or not isinstance(entities, list):
            return False
        wide = text.encode("utf-16-le")
        for e in entities:
            if isinstance(e, Mapping) and e.get("type") == "mention":
                offset, length = e.get("offset"), e.get("length")
                if isinstance(offset, int) and isinstance(length, int):
                    said = wide[2 * offset : 2 * (offset + length)].decode("utf-16-le", "replace")
                    if said.lower() == f"@{name}":
                        return True
        return False

    def _bot_username(self) -> str | None:
        """Our username in lower case; None before start() (then every command is ours)."""
        try:
            return self._bot.username.lower()
        except RuntimeError:
            return None


def _file(msg: Mapping[str, Any]) -> InboundFile | None:
    """A message's photo (its largest size: Telegram lists them smallest first) or document."""
    photo, document = msg.get("photo"), msg.get("document")
    if isinstance(photo, list) and photo:
        sizes = [_obj(p, "message.photo[]") for p in photo]
        best = max(sizes, key=lambda p: (p.get("width", 0) or 0) * (p.get("height", 0) or 0))
        return InboundFile(
            "photo",
            _str(best.get("file_id"), "message.photo[].file_id"),
            _str(best.get("file_unique_id"), "message.photo[].file_unique_id"),
            best.get("file_size") if isinstance(best.get("file_size"), int) else None,
        )
    if document is not None:
        doc = _obj(document, "message.document")
        mime, name = doc.get("mime_type"), doc.get("file_name")
        return InboundFile(
            "document",
            _str(doc.get("file_id"), "message.document.file_id"),
            _str(doc.get("file_unique_id"), "message.document.file_unique_id"),
            doc.get("file_size") if isinstance(doc.get("file_size"), int) else None,
            mime if isinstance(mime, str) else None,
            name if isinstance(name, str) else None,
        )
    return None


def _text_of(msg: Mapping[str, Any]) -> str | None:
    """A message's text or a media message's caption."""
    for key in ("text", "caption"):
        if isinstance(msg.get(key), str):
            return str(msg[key])
    return None


def _button(query: Mapping[str, Any]) -> InboundEvent | None:
    callback_id = _str(query.get("id"), "callback_query.id")
    user = _user(query.get("from"), "callback_query.from")
    data = query.get("data")
    if not isinstance(data, str):
        return None  # a game button, not ours
    chat_id = chat_type = title = message_id = None
    if query.get("message") is not None:  # absent for buttons on inline-mode messages
        msg = _obj(query["message"], "callback_query.message")
        chat_id, chat_type, title = _chat(msg.get("chat"), "callback_query.message.chat")
        message_id = str(_int(msg.get("message_id"), "callback_query.message.message_id"))
    return InboundEvent(
        Platform.TELEGRAM,
        EventKind.BUTTON,
        chat_id=chat_id,
        chat_type=chat_type,
        chat_title=title,
        user=user,
        message_id=message_id,
        button_data=data,
        callback_id=callback_id,
    )


def _poll_answer(answer: Mapping[str, Any]) -> InboundEvent:
    option_ids = answer.get("option_ids")
    if not isinstance(option_ids, list):
        raise MalformedUpdate("poll_answer.option_ids is not a list")
    user = answer.get("user")  # absent when a chat voted anonymously (voter_chat)
    return InboundEvent(
        Platform.TELEGRAM,
        EventKind.POLL_ANSWER,
        user=_user(user, "poll_answer.user") if user is not None else None,
        poll_id=_str(answer.get("poll_id"), "poll_answer.poll_id"),
        option_ids=tuple(_int(i, "poll_answer.option_ids[]") for i in option_ids),
    )


def _membership(update: Mapping[str, Any]) -> InboundEvent | None:
    """The bot's own membership changed: added, removed (kicked, left, blocked) or neither."""
    chat_id, chat_type, title = _chat(update.get("chat"), "my_chat_member.chat")
    user = _user(update.get("from"), "my_chat_member.from")
    was_in = _is_in(update.get("old_chat_member"), "my_chat_member.old_chat_member")
    is_in = _is_in(update.get("new_chat_member"), "my_chat_member.new_chat_member")
    if was_in == is_in:
        return None  # promoted, restricted, …: still in (or still out)
    kind = EventKind.BOT_ADDED if is_in else EventKind.BOT_REMOVED
    return InboundEvent(
        Platform.TELEGRAM, kind, chat_id=chat_id, chat_type=chat_type, chat_title=title, user=user
    )


def _is_in(raw: Any, where: str) -> bool:
    member = _obj(raw, where)
    status = _str(member.get("status"), f"{where}.status")
    return status in _IN_CHAT or (status == "restricted" and member.get("is_member") is True)


def _chat(raw: Any, where: str) -> tuple[str, ChatType, str | None]:
    chat = _obj(raw, where)
    chat_id = _int(chat.get("id"), f"{where}.id")
    private = _str(chat.get("type"), f"{where}.type") == "private"
    title = chat.get("title")
    chat_type = ChatType.PRIVATE if private else ChatType.GROUP  # group, supergroup, channel
    return str(chat_id), chat_type, title if isinstance(title, str) else None


def _user(raw: Any, where: str) -> PlatformUser:
    user = _obj(raw, where)
    user_id = _int(user.get("id"), f"{where}.id")
    parts = (user.get("first_name"), user.get("last_name"))
    name = " ".join(p for p in parts if isinstance(p, str) and p)
    username = user.get("username")
    if not name and isinstance(username, str):
        name = username
    return PlatformUser(str(user_id), name, is_bot=user.get("is_bot") is True)


def _cleaned(update: Any) -> Any:
    """A polled update as the database can store it (`clean_payload`), None if it cannot be."""
    try:
        return clean_payload(update)
    except ValueError as e:
        log.warning("telegram: a polled update dropped: %s", e)
        return None


def _check_length(text: str) -> None:
    """Telegram counts the text without its markup, in UTF-16 code units."""
    if CAPABILITIES.text_length(text) > CAPABILITIES.max_text_length:
        raise BadRequest(f"text is too long: over {CAPABILITIES.max_text_length} UTF-16 code units")


def _message_id(value: str) -> int:
    if not value.lstrip("-").isdigit():
        raise BadRequest("a Telegram message id is a number")
    return int(value)


def _obj(value: Any, where: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise MalformedUpdate(f"{where} is not an object")
    return value


def _int(value: Any, where: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value not in _INT64:
        raise MalformedUpdate(f"{where} is not a 64-bit integer")
    return value


def _str(value: Any, where: str) -> str:
    if not isinstance(value, str):
        raise MalformedUpdate(f"{where} is not a string")
    return value
