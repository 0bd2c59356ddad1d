"""Bot API JSON objects built from sandbox state, with every field Bot API 10.0 requires."""

from __future__ import annotations

from typing import Any

from .state import JSON, BotAccount, Chat, Message, Poll, State, User

ADMIN_RIGHTS = (
    "can_manage_chat", "can_delete_messages", "can_manage_video_chats", "can_restrict_members",
    "can_promote_members", "can_change_info", "can_invite_users", "can_post_stories",
    "can_edit_stories", "can_delete_stories", "can_pin_messages",
)  # fmt: skip


def user_json(user: User) -> JSON:
    out: JSON = {"id": user.id, "is_bot": user.is_bot, "first_name": user.first_name}
    if user.last_name:
        out["last_name"] = user.last_name
    if user.username:
        out["username"] = user.username
    if user.language_code:
        out["language_code"] = user.language_code
    return out


def bot_me_json(bot: BotAccount) -> JSON:
    return {
        **user_json(bot.user),
        "can_join_groups": True,
        "can_read_all_group_messages": False,
        "supports_inline_queries": False,
        "can_connect_to_business": False,
        "has_main_web_app": False,
    }


def chat_json(chat: Chat, state: State) -> JSON:
    if chat.type == "private":
        user = state.users.get(chat.id)
        out: JSON = {"id": chat.id, "type": "private"}
        if user is not None:
            out["first_name"] = user.first_name
            if user.last_name:
                out["last_name"] = user.last_name
            if user.username:
                out["username"] = user.username
        else:
            out["first_name"] = str(chat.title or chat.id)
        return out
    return {"id": chat.id, "type": chat.type, "title": chat.title or ""}


def chat_full_info_json(chat: Chat, state: State) -> JSON:
    out = chat_json(chat, state)
    out.update(
        accent_color_id=0,
        max_reaction_count=11,
        accepted_gift_types={
            "unlimited_gifts": False,
            "limited_gifts": False,
            "unique_gifts": False,
            "premium_subscription": False,
            "gifts_from_channels": False,
        },
    )
    if chat.type != "private":
        out["permissions"] = {
            "can_send_messages": True,
            "can_send_audios": True,
            "can_send_documents": True,
            "can_send_photos": True,
            "can_send_videos": True,
            "can_send_video_notes": True,
            "can_send_voice_notes": True,
            "can_send_polls": True,
            "can_send_other_messages": True,
            "can_add_web_page_previews": True,
            "can_change_info": True,
            "can_invite_users": True,
            "can_pin_messages": True,
            "can_manage_topics": False,
        }
    return out


def sender_json(state: State, sender_id: int) -> JSON:
    bot = state.bots.get(sender_id)
    if bot is not None:
        return user_json(bot.user)
    user = state.users.get(sender_id)
    if user is not None:
        return user_json(user)
    return {"id": sender_id, "is_bot": False, "first_name": f"User {sender_id}"}


def poll_json(poll: Poll) -> JSON:
    out: JSON = {
        "id": poll.id,
        "question": poll.question,
        "options": [
            {"text": text, "voter_count": count, "persistent_id": pid}
            for text, count, pid in zip(poll.options, poll.counts, poll.persistent_ids, strict=True)
        ],
        "total_voter_count": poll.total_voter_count,
        "is_closed": poll.is_closed,
        "is_anonymous": poll.is_anonymous,
        "type": poll.type,
        "allows_multiple_answers": poll.allows_multiple_answers,
        "allows_revoting": poll.allows_revoting,
        "members_only": False,
    }
    if poll.correct_option_ids is not None:
        out["correct_option_ids"] = poll.correct_option_ids
    return out


def message_json(msg: Message, chat: Chat, state: State, *, with_reply: bool = True) -> JSON:
    out: JSON = {
        "message_id": msg.message_id,
        "from": sender_json(state, msg.sender_id),
        "chat": chat_json(chat, state),
        "date": msg.date,
    }
    if msg.text is not None:
        out["text"] = msg.text
        if msg.entities:
            out["entities"] = msg.entities
    if msg.reply_to is not None and with_reply:
        replied = chat.messages.get(msg.reply_to)
        if replied is not None and not replied.deleted:
            out["reply_to_message"] = message_json(replied, chat, state, with_reply=False)
    if msg.edit_date is not None:
        out["edit_date"] = msg.edit_date
    if msg.photo is not None:
        out["photo"] = msg.photo
    if msg.document is not None:
        out["document"] = msg.document
    if msg.caption is not None:
        out["caption"] = msg.caption
        if msg.caption_entities:
            out["caption_entities"] = msg.caption_entities
    if msg.poll_id is not None:
        poll = state.polls.get(msg.poll_id)
        if poll is not None:
            out["poll"] = poll_json(poll)
    if msg.service:
        out.update(msg.service)
    if msg.reply_markup is not None and "inline_keyboard" in msg.reply_markup:
        out["reply_markup"] = msg.reply_markup  # only inline keyboards are part of a Message
    return out


def chat_member_json(user: User, status: str, until_date: int = 0) -> JSON:
    u = user_json(user)
    if status == "creator":
        return {"status": "creator", "user": u, "is_anonymous": False}
    if status == "administrator":
        out: dict[str, Any] = {
            "status": "administrator",
            "user": u,
            "can_be_edited": False,
            "is_anonymous": False,
        }
        out.update(dict.fromkeys(ADMIN_RIGHTS, True))
        return out
    if status == "kicked":
        return {"status": "kicked", "user": u, "until_date": until_date}
    if status == "member":
        return {"status": "member", "user": u}
    return {"status": "left", "user": u}


def command_json(command: str, description: str) -> JSON:
    return {"command": command, "description": description}
