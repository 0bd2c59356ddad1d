"""Platform-neutral types: what handlers and services speak instead of Telegram or Zalo."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum


class Platform(StrEnum):
    TELEGRAM = "telegram"
    ZALO_BOT = "zalo_bot"
    ZALO_OA = "zalo_oa"


class ChatType(StrEnum):
    PRIVATE = "private"
    GROUP = "group"


class Audience(StrEnum):
    """Who a group or a post is for."""

    parents = "parents"
    students = "students"
    teachers = "teachers"
    staff = "staff"
    managers = "managers"
    officials = "officials"
    community = "community"
    businesses = "businesses"


class UnitKind(StrEnum):
    ward = "ward"
    department = "department"
    school = "school"
    class_ = "class"
    residential_group = "residential_group"


@dataclass(frozen=True, slots=True)
class Button:
    """An answer a person can give with one tap. `data` is a short id, never Vietnamese text."""

    label: str
    data: str


@dataclass(frozen=True, slots=True)
class OutboundMessage:
    """One message to one chat. `text` uses the Telegram-HTML subset; adapters convert it."""

    chat_id: str
    text: str
    buttons: tuple[Button, ...] = ()
    reply_to_message_id: str | None = None
    # The chat's platform when it is not the handled event's (an answer to a question asked
    # on Zalo, typed by a teacher on Telegram); None: the event's own.
    platform: Platform | None = None


@dataclass(frozen=True, slots=True)
class EditMessage:
    """Replace the text and buttons of a message the bot sent (its old buttons go)."""

    chat_id: str
    message_id: str
    text: str
    buttons: tuple[Button, ...] = ()


@dataclass(frozen=True, slots=True)
class ButtonAnswer:
    """Stop a tapped button's spinner, with a short note only the tapper sees (plain text)."""

    callback_id: str
    text: str | None = None


# What a handler causes to be sent: it leaves after the handler's transactions, as sends.
Reply = OutboundMessage | EditMessage | ButtonAnswer


@dataclass(frozen=True, slots=True)
class PlatformUser:
    id: str
    name: str
    is_bot: bool = False


@dataclass(frozen=True, slots=True)
class InboundFile:
    """A photo or document a person sent, kept by the platform's file id (not downloaded)."""

    kind: str  # photo | document
    file_id: str
    file_unique_id: str
    size: int | None = None  # bytes, when the platform says
    mime_type: str | None = None  # documents
    name: str | None = None  # documents


class EventKind(StrEnum):
    MESSAGE = "message"  # text a person wrote (commands included: see InboundEvent.command)
    BUTTON = "button"  # a tap on one of our buttons
    POLL_ANSWER = "poll_answer"
    BOT_ADDED = "bot_added"
    BOT_REMOVED = "bot_removed"
    CHAT_MIGRATED = "chat_migrated"
    # A message the platform hands over without its content (Zalo: from minors and other
    # protected senders): loa answers what it can read, and counts it as nothing.
    UNSUPPORTED = "unsupported"
    RECEIPT = "receipt"  # a person received or saw our messages (Zalo OA): see `receipt`


@dataclass(frozen=True, slots=True)
class InboundEvent:
    """Something a person did, as every handler sees it whatever the platform."""

    platform: Platform
    kind: EventKind
    chat_id: str | None = None
    chat_type: ChatType | None = None
    chat_title: str | None = None
    user: PlatformUser | None = None
    text: str | None = None
    command: str | None = None  # "start" for "/start@loa_bot abc"
    args: str = ""  # "abc"
    message_id: str | None = None
    button_data: str | None = None
    callback_id: str | None = None  # needed to answer a button tap
    poll_id: str | None = None
    option_ids: tuple[int, ...] = field(default=())
    new_chat_id: str | None = None  # for CHAT_MIGRATED
    # A message written as a reply: the replied message's id, whether loa wrote it, its text
    # (what a misinformation report points at).
    reply_to_message_id: str | None = None
    reply_to_bot: bool = False
    reply_to_text: str | None = None
    mentions_bot: bool = False  # the message names loa (@loa_bot in a group)
    file: InboundFile | None = None  # a photo or document; `text` is then its caption
    receipt: str | None = None  # for RECEIPT: "received" or "seen"
    message_ids: tuple[str, ...] = field(default=())  # for RECEIPT: the platform's ids
