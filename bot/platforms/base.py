"""The contract every platform adapter keeps (one adapter per platform).

An adapter turns an OutboundMessage into one API call and the platform's answer into either a
SendResult or one of the typed errors below; the sender, not the adapter, decides what a failure
means for the delivery. Inbound, it turns a raw update into an InboundEvent.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any, Protocol, runtime_checkable

from bot.domain import Button, InboundEvent, OutboundMessage, Platform
from bot.text import utf16_len
from content.templates import html_to_plain


class Markup(StrEnum):
    """What a platform's text accepts: the Telegram-HTML subset loa renders, or plain text."""

    TELEGRAM_HTML = "telegram_html"
    PLAIN = "plain"


class LengthUnit(StrEnum):
    """How a platform counts a text against its limit."""

    UTF16 = "utf16"  # UTF-16 code units: an emoji counts 2
    CHARACTER = "character"


@dataclass(frozen=True, slots=True)
class Capabilities:
    """What one platform can show, as data (bot/platforms/capabilities.py lists them)."""

    inline_buttons: bool
    polls: bool
    edit: bool
    groups: bool
    member_count: bool
    markup: Markup
    max_text_length: int
    length_unit: LengthUnit
    max_button_label: int = 0  # characters; 0 where there are no inline buttons
    max_callback_bytes: int = 0
    keeps_files: bool = False  # a photo or document comes with an id loa can download later
    polling: bool = True  # updates can be fetched; False: only by the webhook set by the operator

    def text_length(self, text: str) -> int:
        """The length of `text`, as this platform sends it, the way the platform counts it:
        markup left out."""
        shown = html_to_plain(text) if self.markup == Markup.TELEGRAM_HTML else text
        return utf16_len(shown) if self.length_unit == LengthUnit.UTF16 else len(shown)


@dataclass(frozen=True, slots=True)
class ChannelLimits:
    """Sending limits of one bot on one platform, as data. 0 means no limit."""

    global_per_s: float
    group_per_min: float
    private_per_s: float


@dataclass(frozen=True, slots=True)
class SendResult:
    message_id: str


class SendError(Exception):
    """Base of the typed send errors. `str(error)` never contains message text."""


class RateLimited(SendError):
    def __init__(self, retry_after: float, detail: str = "rate limited") -> None:
        super().__init__(detail)
        self.retry_after = retry_after


class Retryable(SendError):
    """The platform did not take the message (network refused, 5xx): safe to send again."""


class ChatGone(SendError):
    """The bot was kicked or blocked, or the chat no longer exists."""


class ChatMigrated(SendError):
    def __init__(self, new_chat_id: str) -> None:
        super().__init__("chat migrated")
        self.new_chat_id = new_chat_id


class Ambiguous(SendError):
    """The request left and no answer came back: the message may or may not have arrived."""


class BadRequest(SendError):
    """The platform refused this message as it is; sending it again will not help."""


class Postponed(SendError):
    """Sending now would break a platform quota (Zalo OA's promotion caps): try at `until`,
    without a penalty. Raised before any request leaves."""

    def __init__(self, until: datetime, detail: str = "quota") -> None:
        super().__init__(detail)
        self.until = until


class MalformedUpdate(ValueError):
    """An inbound update that does not have the platform's shape."""


class PlatformAdapter(Protocol):
    platform: Platform
    capabilities: Capabilities
    limits: ChannelLimits

    async def start(self) -> None: ...

    async def stop(self) -> None: ...

    async def send(self, message: OutboundMessage) -> SendResult: ...

    async def edit_text(
        self, chat_id: str, message_id: str, text: str, buttons: tuple[Button, ...] = ()
    ) -> None: ...

    async def answer_button(self, callback_id: str, text: str | None = None) -> None: ...

    async def member_count(self, chat_id: str) -> int:
        """The people in a chat, the bot left out: the audience a post reaches there."""
        ...

    def start_link(self, payload: str) -> str | None:
        """A link that opens a private chat with the bot and hands it `payload` (an invite
        code), or None where the platform has none (the person types the code instead)."""
        ...

    async def poll(self, timeout: float) -> list[dict[str, Any]]:
        """Raw updates by long polling. Each call confirms what the previous call returned, so
        call it again only after those updates are persisted."""
        ...

    async def set_webhook(self, url: str, secret: str) -> None: ...

    async def delete_webhook(self) -> None: ...

    def update_key(self, raw: Mapping[str, Any]) -> str:
        """The platform's deduplication key of a raw update. Raises MalformedUpdate."""
        ...

    def parse_update(self, raw: Mapping[str, Any]) -> InboundEvent | None:
        """The event a raw update carries, None for kinds loa ignores. Raises MalformedUpdate."""
        ...


@runtime_checkable
class NotesContact(Protocol):
    """An adapter whose sending rules depend on when a person last wrote to us (Zalo OA's
    consultation window): told of every inbound event before it is handled."""

    async def note_contact(self, event: InboundEvent) -> None: ...
