"""In-memory world of the sandbox: users, bots, chats, messages, polls and the call log.

Plain dataclasses only; protocol-specific behaviour lives in the route modules.
"""

from __future__ import annotations

import itertools
import time
from collections import deque
from dataclasses import dataclass, field
from typing import Any, Literal

Platform = Literal["telegram", "zalo_bot", "zalo_oa"]
PLATFORMS: tuple[str, ...] = ("telegram", "zalo_bot", "zalo_oa")

JSON = dict[str, Any]

# Member statuses as the Bot API names them; "creator"/"administrator"/"member" are "in the chat".
ACTIVE_STATUSES = frozenset({"creator", "administrator", "member"})

FIRST_USER_ID = 100_000_001  # users start here; bot ids come from their tokens
GROUP_ID_BASE = 4_000_000_000  # basic groups look like -4000000001, as Telegram's do
SUPERGROUP_ID_BASE = 1_002_000_000_000  # supergroups look like -1002000000001


@dataclass(slots=True)
class User:
    id: int
    first_name: str
    last_name: str | None = None
    username: str | None = None
    language_code: str | None = None
    is_bot: bool = False


@dataclass(slots=True)
class Webhook:
    url: str
    secret_token: str | None = None
    max_connections: int = 40
    last_error_date: int | None = None
    last_error_message: str | None = None


def first_update_id() -> int:
    """Where a new bot's update ids start. Telegram numbers updates from a new, random start
    after a week of silence; a sandbox, new at each start, starts from the time (milliseconds,
    wrapping at 2^31), so a restarted sandbox does not reuse the ids its previous run gave out
    (a bot keeping the keys it saw would take the new updates for old ones)."""
    return int(time.time() * 1000) % 2**31 or 1


@dataclass(slots=True)
class BotAccount:
    id: int
    token: str
    user: User
    # Pending (unconfirmed) updates, oldest first; each is the final Update JSON object.
    updates: deque[JSON] = field(default_factory=deque)
    next_update_id: int = field(default_factory=first_update_id)
    # None means Telegram's default set (everything but chat_member and reactions).
    allowed_updates: frozenset[str] | None = None
    webhook: Webhook | None = None
    # (scope type, scope chat id, language) -> commands
    commands: dict[tuple[str, int, str], list[JSON]] = field(default_factory=dict)

    @property
    def token_prefix(self) -> str | None:
        """Enough of the token to tell bots apart; None until a token has claimed the bot."""
        if not self.token:
            return None
        digits, _, secret = self.token.partition(":")
        return f"{digits}:{secret[:3]}…"


@dataclass(slots=True)
class Message:
    message_id: int
    chat_id: int
    date: int
    sender_id: int
    text: str | None = None
    entities: list[JSON] | None = None
    caption: str | None = None
    caption_entities: list[JSON] | None = None
    reply_markup: JSON | None = None
    reply_to: int | None = None
    edit_date: int | None = None
    deleted: bool = False
    poll_id: str | None = None
    photo: list[JSON] | None = None
    document: JSON | None = None
    # Service-message fields such as migrate_to_chat_id / migrate_from_chat_id.
    service: JSON | None = None


@dataclass(slots=True)
class Chat:
    id: int
    platform: str
    type: str  # private | group | supergroup
    title: str | None = None
    # Member id (user or bot) -> status: creator, administrator, member, left, kicked.
    members: dict[int, str] = field(default_factory=dict)
    messages: dict[int, Message] = field(default_factory=dict)
    next_message_id: int = 1
    migrated_to: int | None = None
    migrated_from: int | None = None

    def status_of(self, member_id: int) -> str:
        return self.members.get(member_id, "left")

    def is_member(self, member_id: int) -> bool:
        return self.members.get(member_id) in ACTIVE_STATUSES

    def take_message_id(self) -> int:
        """Reserve the next message id (ids increase per chat)."""
        mid = self.next_message_id
        self.next_message_id = mid + 1
        return mid


@dataclass(slots=True)
class Poll:
    id: str
    chat_id: int
    message_id: int
    bot_id: int
    question: str
    options: list[str]
    persistent_ids: list[str]
    counts: list[int]
    is_anonymous: bool = True
    type: str = "regular"
    allows_multiple_answers: bool = False
    allows_revoting: bool = True
    is_closed: bool = False
    correct_option_ids: list[int] | None = None
    votes: dict[int, list[int]] = field(default_factory=dict)  # user id -> option ids

    @property
    def total_voter_count(self) -> int:
        return len(self.votes)


@dataclass(slots=True)
class CallbackQuery:
    id: str
    bot_id: int
    user_id: int
    chat_id: int
    message_id: int
    data: str
    answer: JSON | None = None  # what answerCallbackQuery said, once it has


@dataclass(slots=True)
class StoredFile:
    file_id: str
    file_unique_id: str
    file_name: str | None
    mime_type: str | None
    size: int
    kind: str  # photo | document
    data: bytes = b""  # what getFile's download answers (uploads and files users send)


@dataclass(slots=True)
class LogEntry:
    t: float
    platform: str
    method: str
    bot_id: int | None
    chat_id: int | str | None
    status: int
    params: JSON
    fault: str | None = None


@dataclass
class State:
    users: dict[int, User] = field(default_factory=dict)
    bots: dict[int, BotAccount] = field(default_factory=dict)
    bots_by_token: dict[str, BotAccount] = field(default_factory=dict)
    chats: dict[int, Chat] = field(default_factory=dict)
    polls: dict[str, Poll] = field(default_factory=dict)
    callbacks: dict[str, CallbackQuery] = field(default_factory=dict)
    files: dict[str, StoredFile] = field(default_factory=dict)
    log: list[LogEntry] = field(default_factory=list)
    _user_ids: itertools.count[int] = field(default_factory=lambda: itertools.count(FIRST_USER_ID))
    _group_ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))
    _supergroup_ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))
    _serial: itertools.count[int] = field(default_factory=lambda: itertools.count(1))

    def new_user_id(self) -> int:
        uid = next(self._user_ids)
        while uid in self.bots or uid in self.users:
            uid = next(self._user_ids)
        return uid

    def new_group_id(self) -> int:
        return -(GROUP_ID_BASE + next(self._group_ids))

    def new_supergroup_id(self) -> int:
        return -(SUPERGROUP_ID_BASE + next(self._supergroup_ids))

    def serial(self) -> int:
        """A sandbox-wide increasing number for poll, callback and file ids."""
        return next(self._serial)

    def human_members(self, chat: Chat) -> list[int]:
        return [m for m, s in chat.members.items() if s in ACTIVE_STATUSES and m in self.users]

    def bot_members(self, chat: Chat) -> list[BotAccount]:
        bots = self.bots
        return [bots[m] for m, s in chat.members.items() if s in ACTIVE_STATUSES and m in bots]
