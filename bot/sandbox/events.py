"""Things people do in the sandbox world, and the Telegram updates they produce.

Called by the control API (and so by the browser UI). Errors raise `WorldError`, which the
control API answers as 4xx {"error": ...}.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from . import zalo_bot_api
from .formatting import bot_command_entities
from .state import (
    ACTIVE_STATUSES,
    JSON,
    BotAccount,
    CallbackQuery,
    Chat,
    Message,
    Poll,
    StoredFile,
    User,
)
from .tg_objects import chat_json, chat_member_json, message_json, poll_json, user_json

if TYPE_CHECKING:
    from .app import Sandbox


class WorldError(Exception):
    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.status = status


def _emit_to_members(sb: Sandbox, chat: Chat, kind: str, payload: JSON) -> None:
    if chat.platform != "telegram":
        return  # other platforms deliver their own way (Zalo modules, later)
    for bot in sb.state.bot_members(chat):
        sb.hub.emit(bot, kind, payload)


def _actor(sb: Sandbox, chat: Chat, by_user_id: int | None) -> User:
    """The user who performs a membership change: given, else the chat's first human member."""
    state = sb.state
    if by_user_id is not None:
        user = state.users.get(by_user_id)
        if user is None:
            raise WorldError(f"unknown user {by_user_id}", 404)
        return user
    humans = state.human_members(chat)
    if chat.type == "private":
        humans = [chat.id] if chat.id in state.users else humans
    if not humans:
        raise WorldError("the chat has no human member to act; pass by_user_id")
    return state.users[humans[0]]


def user_writes(
    sb: Sandbox,
    chat: Chat,
    user: User,
    text: str,
    reply_to: int | None = None,
    kind: str = "text",
) -> Message:
    """`kind`: on Zalo, a person may send an image, a sticker, or something the platform hands
    bots without its content ("unsupported": a minor's or a protected sender's message)."""
    if chat.migrated_to is not None:
        raise WorldError(f"chat was migrated to {chat.migrated_to}", 409)
    if not chat.is_member(user.id):
        raise WorldError(f"user {user.id} is not a member of chat {chat.id}")
    if kind != "text" and chat.platform != "zalo_bot":
        raise WorldError("only Zalo Bot chats take kind image, sticker or unsupported")
    if kind not in zalo_bot_api.EVENTS:
        raise WorldError(f"kind must be one of {', '.join(zalo_bot_api.EVENTS)}")
    if kind == "text" and not text.strip():
        raise WorldError("text is empty")
    if reply_to is not None:
        replied = chat.messages.get(reply_to)
        if replied is None or replied.deleted:
            raise WorldError(f"no message {reply_to} in chat {chat.id}", 404)
    entities = bot_command_entities(text) if chat.platform == "telegram" else []
    msg = Message(
        message_id=chat.take_message_id(),
        chat_id=chat.id,
        date=int(time.time()),
        sender_id=user.id,
        text=text if kind == "text" else None,
        caption=text or None if kind == "image" else None,
        entities=entities or None,
        reply_to=reply_to,
        service={"zalo": kind} if kind != "text" else None,
    )
    chat.messages[msg.message_id] = msg
    if chat.platform == "telegram":
        _emit_to_members(sb, chat, "message", message_json(msg, chat, sb.state))
    elif chat.platform == "zalo_bot":
        zalo_bot_api.person_writes(sb, chat, user, msg, kind)
    elif chat.platform == "zalo_oa":
        sb.zalo_oa.user_wrote(chat, msg)
    return msg


def user_sends_file(
    sb: Sandbox,
    chat: Chat,
    user: User,
    stored: StoredFile,
    caption: str | None = None,
    reply_to: int | None = None,
) -> Message:
    """A user sends a photo (Message.photo: PhotoSize list, smallest first) or a document."""
    if chat.migrated_to is not None:
        raise WorldError(f"chat was migrated to {chat.migrated_to}", 409)
    if not chat.is_member(user.id):
        raise WorldError(f"user {user.id} is not a member of chat {chat.id}")
    if reply_to is not None and (chat.messages.get(reply_to) is None):
        raise WorldError(f"no message {reply_to} in chat {chat.id}", 404)
    sb.state.files[stored.file_id] = stored
    photo: list[JSON] | None = None
    document: JSON | None = None
    if stored.kind == "photo":
        thumb = {
            "file_id": stored.file_id + "s", "file_unique_id": stored.file_unique_id + "s",
            "width": 90, "height": 68, "file_size": min(stored.size, 1500),
        }  # fmt: skip
        full = {
            "file_id": stored.file_id, "file_unique_id": stored.file_unique_id,
            "width": 1280, "height": 960, "file_size": stored.size,
        }  # fmt: skip
        photo = [thumb, full]
    else:
        document = {"file_id": stored.file_id, "file_unique_id": stored.file_unique_id}
        if stored.file_name:
            document["file_name"] = stored.file_name
        if stored.mime_type:
            document["mime_type"] = stored.mime_type
        document["file_size"] = stored.size
    msg = Message(
        message_id=chat.take_message_id(),
        chat_id=chat.id,
        date=int(time.time()),
        sender_id=user.id,
        caption=caption or None,
        caption_entities=(bot_command_entities(caption) or None) if caption else None,
        reply_to=reply_to,
        photo=photo,
        document=document,
    )
    chat.messages[msg.message_id] = msg
    if chat.platform == "telegram":
        _emit_to_members(sb, chat, "message", message_json(msg, chat, sb.state))
    return msg


def _has_button(markup: JSON | None, data: str) -> bool:
    if not markup:
        return False
    for row in markup.get("inline_keyboard") or ():
        for button in row:
            if isinstance(button, dict) and button.get("callback_data") == data:
                return True
    return False


def press_button(sb: Sandbox, chat: Chat, user: User, message_id: int, data: str) -> CallbackQuery:
    state = sb.state
    msg = chat.messages.get(message_id)
    if msg is None or msg.deleted:
        raise WorldError(f"no message {message_id} in chat {chat.id}", 404)
    if not chat.is_member(user.id):
        raise WorldError(f"user {user.id} is not a member of chat {chat.id}")
    if not _has_button(msg.reply_markup, data):
        raise WorldError(f"message {message_id} has no button with callback_data {data!r}")
    bot = state.bots.get(msg.sender_id)
    if bot is None:
        raise WorldError("the message was not sent by a bot")
    query = CallbackQuery(
        id=str(4_000_000_000_000_000_000 + state.serial()),
        bot_id=bot.id,
        user_id=user.id,
        chat_id=chat.id,
        message_id=message_id,
        data=data,
    )
    state.callbacks[query.id] = query
    if chat.platform == "zalo_oa":  # an oa.query button: its payload comes as the user's text
        user_writes(sb, chat, user, data)
        return query
    sb.hub.emit(
        bot,
        "callback_query",
        {
            "id": query.id,
            "from": user_json(user),
            "chat_instance": str(abs(chat.id) * 7919 % 10**18),
            "message": message_json(msg, chat, state),
            "data": data,
        },
    )
    return query


def answer_poll(sb: Sandbox, poll: Poll, user: User, option_ids: list[int]) -> None:
    state = sb.state
    if poll.is_closed:
        raise WorldError("the poll is closed", 409)
    chat = state.chats[poll.chat_id]
    if chat.migrated_to is not None:
        chat = state.chats[chat.migrated_to]
    if not chat.is_member(user.id):
        raise WorldError(f"user {user.id} is not a member of chat {chat.id}")
    n = len(poll.options)
    if len(set(option_ids)) != len(option_ids) or any(not 0 <= i < n for i in option_ids):
        raise WorldError(f"option_ids must be distinct numbers from 0 to {n - 1}")
    if len(option_ids) > 1 and not poll.allows_multiple_answers:
        raise WorldError("the poll allows only one answer")
    previous = poll.votes.get(user.id)
    if previous is not None and not poll.allows_revoting:
        raise WorldError("the poll does not allow changing the answer", 409)
    if previous is None and not option_ids:
        raise WorldError("option_ids is empty and the user has not voted")
    for i in previous or ():
        poll.counts[i] -= 1
    if option_ids:
        poll.votes[user.id] = list(option_ids)
        for i in option_ids:
            poll.counts[i] += 1
    else:
        poll.votes.pop(user.id, None)  # a retracted vote
    bot = state.bots.get(poll.bot_id)
    if bot is None:
        return
    if not poll.is_anonymous:
        sb.hub.emit(
            bot,
            "poll_answer",
            {
                "poll_id": poll.id,
                "user": user_json(user),
                "option_ids": list(option_ids),
                "option_persistent_ids": [poll.persistent_ids[i] for i in option_ids],
            },
        )
    sb.hub.emit(bot, "poll", poll_json(poll))


def my_chat_member(
    sb: Sandbox, bot: BotAccount, chat: Chat, actor: User, old: str, new: str
) -> None:
    sb.hub.emit(
        bot,
        "my_chat_member",
        {
            "chat": chat_json(chat, sb.state),
            "from": user_json(actor),
            "date": int(time.time()),
            "old_chat_member": chat_member_json(bot.user, old),
            "new_chat_member": chat_member_json(bot.user, new),
        },
    )


def add_member(
    sb: Sandbox, chat: Chat, member_id: int, by_user_id: int | None, status: str = "member"
) -> None:
    state = sb.state
    if chat.migrated_to is not None:
        raise WorldError(f"chat was migrated to {chat.migrated_to}", 409)
    if status not in ACTIVE_STATUSES:
        raise WorldError("status must be member, administrator or creator")
    if member_id <= 0:
        raise WorldError(f"{member_id} is not a user or bot id")
    # Not a user: a bot, perhaps one that has not made its first Bot API call yet.
    bot = None if member_id in state.users else sb.bot_by_id(member_id)
    if chat.type == "private" and bot is None and member_id != chat.id:
        raise WorldError("only the chat's user and bots can be in a private chat")
    old = chat.status_of(member_id)
    chat.members[member_id] = status
    if bot is None or old == status or chat.platform != "telegram":
        return
    # Telegram sends no my_chat_member for a user's very first /start, only for un-blocking.
    if chat.type == "private" and old != "kicked":
        return
    my_chat_member(sb, bot, chat, _actor(sb, chat, by_user_id), old, status)


def remove_member(
    sb: Sandbox, chat: Chat, member_id: int, by_user_id: int | None, status: str = "kicked"
) -> None:
    state = sb.state
    if status not in ("kicked", "left"):
        raise WorldError("status must be kicked or left")
    if chat.type == "private" and member_id == chat.id:
        raise WorldError("the user of a private chat can't be removed")
    old = chat.status_of(member_id)
    if old not in ACTIVE_STATUSES:
        raise WorldError(f"{member_id} is not a member of chat {chat.id}", 404)
    bot = state.bots.get(member_id)
    if chat.type == "private":
        status = "kicked"  # the user blocked the bot
    actor = _actor(sb, chat, by_user_id) if bot is not None else None
    chat.members[member_id] = status
    if bot is not None and actor is not None and chat.platform == "telegram":
        my_chat_member(sb, bot, chat, actor, old, status)


def migrate(sb: Sandbox, chat: Chat, by_user_id: int | None = None) -> Chat:
    state = sb.state
    if chat.platform != "telegram" or chat.type != "group":
        raise WorldError("only Telegram basic groups can migrate to a supergroup")
    if chat.migrated_to is not None:
        raise WorldError(f"chat already migrated to {chat.migrated_to}", 409)
    actor = _actor(sb, chat, by_user_id)
    new = Chat(
        id=state.new_supergroup_id(),
        platform=chat.platform,
        type="supergroup",
        title=chat.title,
        members=dict(chat.members),
        migrated_from=chat.id,
    )
    state.chats[new.id] = new
    now = int(time.time())
    old_msg = Message(
        chat.take_message_id(), chat.id, now, actor.id, service={"migrate_to_chat_id": new.id}
    )
    chat.messages[old_msg.message_id] = old_msg
    new_msg = Message(
        new.take_message_id(), new.id, now, actor.id, service={"migrate_from_chat_id": chat.id}
    )
    new.messages[new_msg.message_id] = new_msg
    old_json = message_json(old_msg, chat, state)
    new_json = message_json(new_msg, new, state)
    chat.migrated_to = new.id  # after the updates' chat objects are built
    for bot in state.bot_members(new):
        sb.hub.emit(bot, "message", old_json)
        sb.hub.emit(bot, "message", new_json)
    return new
