"""The fake Telegram Bot API: `/bot<TOKEN>/<method>`."""

from __future__ import annotations

import asyncio
import json
import logging
import re
import time
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any, NoReturn

from aiohttp import web

from . import events
from .errors import ApiError, bad_request, forbidden, too_many_requests
from .formatting import EntityParseError, parse_html, trim, utf16_len
from .markdown import parse_markdown, parse_markdown_v2
from .params import Params, Upload, read_params
from .state import (
    ACTIVE_STATUSES,
    JSON,
    BotAccount,
    Chat,
    LogEntry,
    Message,
    Poll,
    State,
    StoredFile,
    User,
    Webhook,
)
from .tg_objects import (
    bot_me_json,
    chat_full_info_json,
    chat_member_json,
    command_json,
    message_json,
    poll_json,
)

if TYPE_CHECKING:
    from .app import Sandbox

log = logging.getLogger(__name__)

TOKEN_RE = re.compile(r"([1-9][0-9]{0,19}):([A-Za-z0-9_-]{10,})")
SECRET_RE = re.compile(r"[A-Za-z0-9_-]{1,256}")
COMMAND_RE = re.compile(r"[a-z0-9_]{1,32}")
UPDATE_KINDS = frozenset(
    {
        "message", "edited_message", "channel_post", "edited_channel_post",
        "business_connection", "business_message", "edited_business_message",
        "deleted_business_messages", "message_reaction", "message_reaction_count",
        "inline_query", "chosen_inline_result", "callback_query", "shipping_query",
        "pre_checkout_query", "purchased_paid_media", "poll", "poll_answer", "my_chat_member",
        "chat_member", "chat_join_request", "chat_boost", "removed_chat_boost",
    }
)  # fmt: skip
# Calls counted by the flood limits: everything that posts a new message.
MAX_DOWNLOAD = 20 * 1024 * 1024  # what getFile lets a bot download
RATE_LIMITED = frozenset({"sendmessage", "sendphoto", "senddocument", "sendpoll"})
BUTTON_FIELDS = (
    "url", "callback_data", "web_app", "login_url", "switch_inline_query",
    "switch_inline_query_current_chat", "switch_inline_query_chosen_chat", "copy_text",
    "callback_game", "pay",
)  # fmt: skip
NOT_MODIFIED = (
    "message is not modified: specified new message content and reply markup are exactly "
    "the same as a current content and reply markup of the message"
)
MAX_TEXT = 4096
MAX_CAPTION = 1024

Method = Callable[[BotAccount, Params], Awaitable[Any]]
PARSERS: dict[str, Callable[[str], tuple[str, list[JSON]]]] = {
    "html": parse_html,
    "markdownv2": parse_markdown_v2,
    "markdown": parse_markdown,
}


def _json_dumps(obj: Any) -> bytes:
    return json.dumps(obj, ensure_ascii=False, separators=(",", ":")).encode()


def _log_chat_id(raw: dict[str, Any]) -> int | str | None:
    v = raw.get("chat_id")
    if v is None or isinstance(v, int):
        return v
    try:
        return int(v)
    except (TypeError, ValueError):
        return str(v)


def parse_inline_keyboard(rows: Any) -> list[list[JSON]]:
    if not isinstance(rows, list) or not all(isinstance(r, list) for r in rows):
        raise bad_request(
            'field "inline_keyboard" of the InlineKeyboardMarkup should be an Array of Arrays'
        )
    for row in rows:
        for button in row:
            if not isinstance(button, dict):
                raise bad_request(
                    "can't parse InlineKeyboardButton: InlineKeyboardButton must be an Object"
                )
            if not isinstance(button.get("text"), str):
                raise bad_request(
                    'can\'t parse InlineKeyboardButton: Field "text" must be of type String'
                )
            actions = [f for f in BUTTON_FIELDS if f in button]
            for field in ("url", "callback_data", "copy_text"):
                if field in button and field != "copy_text" and not isinstance(button[field], str):
                    raise bad_request(
                        f'can\'t parse InlineKeyboardButton: Field "{field}" must be of type String'
                    )
            # An empty callback_data counts as absent, as on Telegram.
            if not actions or (actions == ["callback_data"] and button["callback_data"] == ""):
                raise bad_request(
                    "can't parse InlineKeyboardButton: Text buttons are not allowed in the "
                    "inline keyboard"
                )
            data = button.get("callback_data")
            if data is not None and len(data.encode()) > 64:
                raise bad_request("BUTTON_DATA_INVALID")
            url = button.get("url")
            if url is not None and not re.match(r"(https?|tg)://\S+$", url, re.IGNORECASE):
                raise bad_request("BUTTON_URL_INVALID")
    return rows


class TelegramApi:
    def __init__(self, sb: Sandbox) -> None:
        self.sb = sb
        table: dict[str, Method] = {
            "getMe": self.get_me,
            "getFile": self.get_file,
            "logOut": self.just_true,
            "close": self.just_true,
            "getUpdates": self.get_updates,
            "setWebhook": self.set_webhook,
            "deleteWebhook": self.delete_webhook,
            "getWebhookInfo": self.get_webhook_info,
            "sendMessage": self.send_message,
            "sendPhoto": self.send_photo,
            "sendDocument": self.send_document,
            "sendPoll": self.send_poll,
            "sendChatAction": self.send_chat_action,
            "editMessageText": self.edit_message_text,
            "editMessageCaption": self.edit_message_caption,
            "editMessageReplyMarkup": self.edit_message_reply_markup,
            "deleteMessage": self.delete_message,
            "stopPoll": self.stop_poll,
            "answerCallbackQuery": self.answer_callback_query,
            "getChat": self.get_chat,
            "getChatMember": self.get_chat_member,
            "getChatMemberCount": self.get_chat_member_count,
            "getChatAdministrators": self.get_chat_administrators,
            "leaveChat": self.leave_chat,
            "setMyCommands": self.set_my_commands,
            "getMyCommands": self.get_my_commands,
            "deleteMyCommands": self.delete_my_commands,
        }
        # Bot API method names are case-insensitive.
        self.methods: dict[str, tuple[str, Method]] = {k.lower(): (k, v) for k, v in table.items()}

    @property
    def state(self) -> State:
        return self.sb.state

    # --- request plumbing ---------------------------------------------------------------------

    async def handle(self, request: web.Request) -> web.StreamResponse:
        t = time.time()
        raw_method = request.match_info["method"]
        key = raw_method.lower()
        entry = self.methods.get(key)
        name = entry[0] if entry is not None else raw_method
        bot: BotAccount | None = None
        raw: dict[str, Any] = {}
        fault_kind: str | None = None
        try:
            raw = await read_params(request)
            bot = self.bot_for_token(request.match_info["token"])
            if entry is None:
                raise ApiError(404, "Not Found")
            faults = self.sb.faults
            if faults.faults:
                chat_key = _log_chat_id(raw)
                fault = faults.match(key, None if chat_key is None else str(chat_key))
                if fault is not None:
                    fault_kind = str(fault.status)
                    if fault.status == "drop":
                        self._log(t, name, bot, raw, 0, fault_kind)
                        self._drop(request)
                    if fault.status != "timeout":
                        raise fault.error()
            result = await entry[1](bot, Params(raw))
            status, body = 200, {"ok": True, "result": result}
        except ApiError as exc:
            status, body = exc.code, exc.body()
        except Exception:  # a sandbox bug: answer like Telegram's own failures, keep serving
            log.exception("sandbox failed on %s", name)
            status, body = 500, ApiError(500, "Internal Server Error").body()
        self._log(t, name, bot, raw, status, fault_kind)
        response = web.Response(
            body=_json_dumps(body), status=status, content_type="application/json"
        )
        if fault_kind == "timeout":
            await self.sb.hold()  # performed; now make the client time out waiting for the answer
        return response

    def _log(
        self, t: float, name: str, bot: BotAccount | None, raw: JSON, status: int, fault: str | None
    ) -> None:
        bot_id = bot.id if bot else None
        if any(isinstance(v, Upload) for v in raw.values()):  # don't keep file bytes alive
            raw = {k: v.describe() if isinstance(v, Upload) else v for k, v in raw.items()}
        self.state.log.append(
            LogEntry(t, "telegram", name, bot_id, _log_chat_id(raw), status, raw, fault)
        )

    @staticmethod
    def _drop(request: web.Request) -> NoReturn:
        """Close the connection without any answer, as a network failure would."""
        transport = request.transport
        if transport is not None:
            transport.abort()
        raise asyncio.CancelledError

    def bot_for_token(self, token: str) -> BotAccount:
        bot = self.state.bots_by_token.get(token)
        if bot is not None:
            return bot
        m = TOKEN_RE.fullmatch(token)
        if m is None:  # Telegram answers malformed tokens like unknown paths
            raise ApiError(404, "Not Found")
        known = self.state.bots.get(int(m.group(1)))
        if known is not None and known.token:  # that bot id has another (the valid) token
            raise ApiError(401, "Unauthorized")
        return self.sb.register_bot(token)

    # --- shared checks ------------------------------------------------------------------------

    def chat_for(self, bot: BotAccount, p: Params, name: str = "chat_id") -> Chat:
        """The chat a bot addresses, checked for existence, migration and membership."""
        ref = p.chat_ref(name)
        if ref is None:
            raise bad_request("chat_id is empty")
        chat = self.state.chats.get(ref) if isinstance(ref, int) else None
        if chat is None or chat.platform != "telegram":
            raise bad_request("chat not found")
        if chat.migrated_to is not None:
            raise ApiError(
                400,
                "Bad Request: group chat was upgraded to a supergroup chat",
                {"migrate_to_chat_id": chat.migrated_to},
            )
        status = chat.members.get(bot.id)
        if status not in ACTIVE_STATUSES:
            if chat.type == "private":
                if status == "kicked":
                    raise forbidden("bot was blocked by the user")
                raise forbidden("bot can't initiate conversation with a user")
            kind = "supergroup chat" if chat.type == "supergroup" else "group chat"
            if status == "kicked":
                raise forbidden(f"bot was kicked from the {kind}")
            raise forbidden(f"bot is not a member of the {kind}")
        return chat

    def throttle(self, bot: BotAccount, chat: Chat) -> float:
        """Apply the flood limits; returns the call time to record once performed."""
        now = time.monotonic()
        limiter = self.sb.limiter
        if limiter.active:
            retry = limiter.check(bot.id, chat.id, chat.type == "private", now)
            if retry:
                raise too_many_requests(retry)
        return now

    def performed(self, bot: BotAccount, chat: Chat, now: float) -> None:
        limiter = self.sb.limiter
        if limiter.active:
            limiter.record(bot.id, chat.id, chat.type == "private", now)

    @staticmethod
    def formatted(
        p: Params, text: str, *, mode_field: str, entities_field: str
    ) -> tuple[str, list[JSON] | None]:
        mode = p.text(mode_field)
        entities: list[JSON] = []
        if mode:
            parser = PARSERS.get(mode.lower())
            if parser is None:
                raise bad_request(f"unsupported parse_mode {mode}")
            try:
                text, entities = parser(text)
            except EntityParseError as exc:
                raise bad_request(f"can't parse entities: {exc}") from None
        elif p.has(entities_field):
            try:
                given = p.json(entities_field)
            except ValueError:
                raise bad_request("can't parse entities JSON object") from None
            if not isinstance(given, list) or not all(
                isinstance(e, dict)
                and isinstance(e.get("type"), str)
                and isinstance(e.get("offset"), int)
                and isinstance(e.get("length"), int)
                for e in given
            ):
                raise bad_request("can't parse entities JSON object")
            entities = given
        text, entities = trim(text, entities)
        return text, entities or None

    @staticmethod
    def markup(p: Params) -> JSON | None:
        if not p.has("reply_markup"):
            return None
        try:
            markup = p.json("reply_markup")
        except ValueError:
            raise bad_request("can't parse reply keyboard markup JSON object") from None
        if not isinstance(markup, dict) or not markup:
            raise bad_request("can't parse reply keyboard markup JSON object")
        if "inline_keyboard" in markup:
            return {"inline_keyboard": parse_inline_keyboard(markup["inline_keyboard"])}
        if not ({"keyboard", "remove_keyboard", "force_reply"} & markup.keys()):
            raise bad_request("can't parse reply keyboard markup JSON object")
        return markup

    @staticmethod
    def reply_to(p: Params, chat: Chat) -> int | None:
        allow = p.flag("allow_sending_without_reply")
        mid: Any = None
        if p.has("reply_parameters"):
            try:
                rp = p.json("reply_parameters")
            except ValueError:
                raise bad_request("can't parse reply parameters JSON object") from None
            if not isinstance(rp, dict):
                raise bad_request("can't parse reply parameters JSON object")
            mid = rp.get("message_id")
            allow = bool(rp.get("allow_sending_without_reply", allow))
        elif p.has("reply_to_message_id"):
            mid = p.integer("reply_to_message_id")
        if mid is None:
            return None
        if not isinstance(mid, int):
            raise bad_request("invalid reply message identifier specified")
        replied = chat.messages.get(mid)
        if replied is None or replied.deleted:
            if allow:
                return None
            raise bad_request("message to be replied not found")
        return mid

    def store(self, bot: BotAccount, chat: Chat, **fields: Any) -> Message:
        msg = Message(chat.take_message_id(), chat.id, int(time.time()), bot.id, **fields)
        chat.messages[msg.message_id] = msg
        return msg

    def own_message(self, bot: BotAccount, chat: Chat, p: Params, missing: str) -> Message:
        mid = p.integer("message_id")
        if mid is None:
            raise bad_request("message identifier is not specified")
        msg = chat.messages.get(mid)
        if msg is None or msg.deleted:
            raise bad_request(missing)
        if msg.sender_id != bot.id or msg.service:
            raise bad_request("message can't be edited")
        if msg.reply_markup is not None and "inline_keyboard" not in msg.reply_markup:
            raise bad_request("message can't be edited")  # sent with a reply keyboard
        return msg

    # --- methods ------------------------------------------------------------------------------

    async def just_true(self, bot: BotAccount, p: Params) -> bool:
        return True

    async def get_me(self, bot: BotAccount, p: Params) -> JSON:
        return bot_me_json(bot)

    @staticmethod
    def _set_allowed_updates(bot: BotAccount, p: Params) -> None:
        """Apply allowed_updates if given; an empty list means Telegram's default set."""
        if not p.has("allowed_updates"):
            return
        try:
            value = p.json("allowed_updates")
        except ValueError:
            return
        if isinstance(value, list):
            kinds = frozenset(v for v in value if isinstance(v, str) and v in UPDATE_KINDS)
            bot.allowed_updates = kinds or None

    async def get_updates(self, bot: BotAccount, p: Params) -> list[JSON]:
        self._set_allowed_updates(bot, p)
        limit = p.integer("limit") or 100
        timeout = p.number("timeout") or 0.0
        return await self.sb.hub.get_updates(
            bot, p.integer("offset"), max(1, min(limit, 100)), max(0.0, min(timeout, 50.0))
        )

    async def set_webhook(self, bot: BotAccount, p: Params) -> bool:
        url = (p.text("url") or "").strip()
        if not url:
            return await self.delete_webhook(bot, p)
        if not re.match(r"https?://[^\s/]+", url, re.IGNORECASE):
            raise bad_request("bad webhook: An HTTPS URL must be provided for webhook")
        secret = p.text("secret_token")
        if secret is not None and not SECRET_RE.fullmatch(secret):
            raise bad_request("secret token contains unallowed characters")
        max_connections = p.integer("max_connections") or 40
        if not 1 <= max_connections <= 100:
            raise bad_request("bad webhook: max_connections must be between 1 and 100")
        self._set_allowed_updates(bot, p)
        if p.flag("drop_pending_updates"):
            bot.updates.clear()
        self.sb.hub.set_webhook(bot, Webhook(url, secret or None, max_connections))
        return True

    async def delete_webhook(self, bot: BotAccount, p: Params) -> bool:
        if p.flag("drop_pending_updates"):
            bot.updates.clear()
        self.sb.hub.delete_webhook(bot)
        return True

    async def get_webhook_info(self, bot: BotAccount, p: Params) -> JSON:
        wh = bot.webhook
        info: JSON = {
            "url": wh.url if wh else "",
            "has_custom_certificate": False,
            "pending_update_count": len(bot.updates),
        }
        if wh is not None:
            info["max_connections"] = wh.max_connections
            info["ip_address"] = "127.0.0.1"
            if wh.last_error_date is not None:
                info["last_error_date"] = wh.last_error_date
                info["last_error_message"] = wh.last_error_message
        if bot.allowed_updates is not None:
            info["allowed_updates"] = sorted(bot.allowed_updates)
        return info

    async def send_message(self, bot: BotAccount, p: Params) -> JSON:
        chat = self.chat_for(bot, p)
        now = self.throttle(bot, chat)
        text = p.text("text")
        if not text:
            raise bad_request("message text is empty")
        text, entities = self.formatted(p, text, mode_field="parse_mode", entities_field="entities")
        if not text:
            raise bad_request("message text is empty")
        if len(text) > MAX_TEXT // 2 and utf16_len(text) > MAX_TEXT:
            raise bad_request("message is too long")
        markup = self.markup(p)
        reply_to = self.reply_to(p, chat)
        msg = self.store(
            bot, chat, text=text, entities=entities, reply_markup=markup, reply_to=reply_to
        )
        self.performed(bot, chat, now)
        return message_json(msg, chat, self.state)

    def _input_file(self, p: Params, field: str, kind: str) -> StoredFile:
        value = p.get(field)
        if isinstance(value, str) and value.startswith("attach://"):
            value = p.get(value[len("attach://") :])
        state = self.state
        if isinstance(value, Upload):
            n = state.serial()
            prefix = "AgAC" if kind == "photo" else "BQAC"
            stored = StoredFile(
                f"{prefix}sbx{n:08d}", f"AQADsbx{n:06d}", value.filename, value.content_type,
                len(value.data), kind, value.data,
            )  # fmt: skip
            state.files[stored.file_id] = stored
            return stored
        if isinstance(value, str) and value:
            known = state.files.get(value)
            if known is not None:
                return known
            if re.match(r"https?://\S+$", value, re.IGNORECASE):
                n = state.serial()
                name = value.rstrip("/").rsplit("/", 1)[-1] or None
                stored = StoredFile(f"BQACsbx{n:08d}", f"AQADsbx{n:06d}", name, None, 0, kind)
                state.files[stored.file_id] = stored
                return stored
            raise bad_request("wrong file identifier/HTTP URL specified")
        raise bad_request(f"there is no {field} in the request")

    def _caption(self, p: Params) -> tuple[str | None, list[JSON] | None]:
        caption = p.text("caption")
        if not caption:
            return None, None
        text, entities = self.formatted(
            p, caption, mode_field="parse_mode", entities_field="caption_entities"
        )
        if utf16_len(text) > MAX_CAPTION:
            raise bad_request("message caption is too long")
        return text or None, entities

    async def send_photo(self, bot: BotAccount, p: Params) -> JSON:
        chat = self.chat_for(bot, p)
        now = self.throttle(bot, chat)
        f = self._input_file(p, "photo", "photo")
        caption, entities = self._caption(p)
        photo = [
            {"file_id": f.file_id, "file_unique_id": f.file_unique_id, "width": 1280,
             "height": 960, "file_size": f.size}
        ]  # fmt: skip
        msg = self.store(
            bot, chat, photo=photo, caption=caption, caption_entities=entities,
            reply_markup=self.markup(p), reply_to=self.reply_to(p, chat),
        )  # fmt: skip
        self.performed(bot, chat, now)
        return message_json(msg, chat, self.state)

    async def send_document(self, bot: BotAccount, p: Params) -> JSON:
        chat = self.chat_for(bot, p)
        now = self.throttle(bot, chat)
        f = self._input_file(p, "document", "document")
        caption, entities = self._caption(p)
        document: JSON = {"file_id": f.file_id, "file_unique_id": f.file_unique_id}
        if f.file_name:
            document["file_name"] = f.file_name
        if f.mime_type:
            document["mime_type"] = f.mime_type
        if f.size:
            document["file_size"] = f.size
        msg = self.store(
            bot, chat, document=document, caption=caption, caption_entities=entities,
            reply_markup=self.markup(p), reply_to=self.reply_to(p, chat),
        )  # fmt: skip
        self.performed(bot, chat, now)
        return message_json(msg, chat, self.state)

    async def get_file(self, bot: BotAccount, p: Params) -> JSON:
        """A File whose file_path downloads at /file/bot<token>/<file_path>, as on Telegram;
        over 20 MB it is "file is too big" (the Bot API's download limit)."""
        file_id = p.text("file_id")
        if not file_id:
            raise bad_request("file_id is empty")
        stored = self.state.files.get(file_id)
        if stored is None:
            raise bad_request("invalid file_id")
        if stored.size > MAX_DOWNLOAD:
            raise bad_request("file is too big")
        return {
            "file_id": stored.file_id,
            "file_unique_id": stored.file_unique_id,
            "file_size": stored.size,
            "file_path": f"{stored.kind}s/{stored.file_id}",
        }

    async def download(self, request: web.Request) -> web.StreamResponse:
        """GET /file/bot<token>/<file_path>: the bytes of a file getFile named."""
        try:
            self.bot_for_token(request.match_info["token"])
        except ApiError as exc:
            return web.json_response(exc.body(), status=exc.code)
        stored = self.state.files.get(request.match_info["path"].rsplit("/", 1)[-1])
        if stored is None:
            return web.json_response(ApiError(404, "Not Found").body(), status=404)
        return web.Response(body=stored.data, content_type="application/octet-stream")

    async def send_poll(self, bot: BotAccount, p: Params) -> JSON:
        chat = self.chat_for(bot, p)
        now = self.throttle(bot, chat)
        question = (p.text("question") or "").strip()
        if not question:
            raise bad_request("poll question must be non-empty")
        if utf16_len(question) > 300:
            raise bad_request("poll question length must not exceed 300")
        try:
            raw_options = p.json("options")
        except ValueError:
            raise bad_request("can't parse options JSON object") from None
        if not isinstance(raw_options, list):
            raise bad_request('field "options" must be of type Array')
        options: list[str] = []
        for o in raw_options:
            text = o.get("text") if isinstance(o, dict) else o
            if not isinstance(text, str):
                raise bad_request(
                    'can\'t parse InputPollOption: Field "text" must be of type String'
                )
            options.append(text.strip())
        if len(options) < 2:
            raise bad_request("poll must have at least 2 option")
        if len(options) > 12:
            raise bad_request("poll can't have more than 12 options")
        if any(not o for o in options):
            raise bad_request("poll options must be non-empty")
        if any(utf16_len(o) > 100 for o in options):
            raise bad_request("poll options length must not exceed 100")
        kind = p.text("type") or "regular"
        if kind not in ("regular", "quiz"):
            raise bad_request("poll type is invalid")
        correct: list[int] | None = None
        if kind == "quiz":
            try:
                ids = p.json("correct_option_ids")
            except ValueError:
                ids = None
            if ids is None and p.has("correct_option_id"):
                ids = [p.integer("correct_option_id")]
            if (
                not isinstance(ids, list)
                or not ids
                or not all(isinstance(i, int) and 0 <= i < len(options) for i in ids)
            ):
                raise bad_request("wrong correct option ID specified")
            correct = ids
        markup = self.markup(p)
        reply_to = self.reply_to(p, chat)
        poll = Poll(
            id=str(5_000_000_000_000_000_000 + self.state.serial()),
            chat_id=chat.id,
            message_id=0,
            bot_id=bot.id,
            question=question,
            options=options,
            persistent_ids=[str(i) for i in range(len(options))],
            counts=[0] * len(options),
            is_anonymous=p.flag("is_anonymous", True),
            type=kind,
            allows_multiple_answers=p.flag("allows_multiple_answers") and kind == "regular",
            allows_revoting=p.flag("allows_revoting", kind == "regular"),
            is_closed=p.flag("is_closed"),
            correct_option_ids=correct,
        )
        self.state.polls[poll.id] = poll
        msg = self.store(bot, chat, poll_id=poll.id, reply_markup=markup, reply_to=reply_to)
        poll.message_id = msg.message_id
        self.performed(bot, chat, now)
        return message_json(msg, chat, self.state)

    async def send_chat_action(self, bot: BotAccount, p: Params) -> bool:
        self.chat_for(bot, p)
        if not p.text("action"):
            raise bad_request("wrong parameter action in request")
        return True

    async def edit_message_text(self, bot: BotAccount, p: Params) -> JSON:
        if p.has("inline_message_id"):
            raise bad_request("MESSAGE_ID_INVALID")
        chat = self.chat_for(bot, p)
        msg = self.own_message(bot, chat, p, "message to edit not found")
        if msg.text is None:
            raise bad_request("there is no text in the message to edit")
        text = p.text("text")
        if not text:
            raise bad_request("message text is empty")
        text, entities = self.formatted(p, text, mode_field="parse_mode", entities_field="entities")
        if not text:
            raise bad_request("message text is empty")
        if utf16_len(text) > MAX_TEXT:
            raise bad_request("message is too long")
        markup = self.markup(p)  # editing without reply_markup removes the inline keyboard
        if (text, entities, markup) == (msg.text, msg.entities, msg.reply_markup):
            raise bad_request(NOT_MODIFIED)
        msg.text, msg.entities, msg.reply_markup = text, entities, markup
        msg.edit_date = int(time.time())
        return message_json(msg, chat, self.state)

    async def edit_message_caption(self, bot: BotAccount, p: Params) -> JSON:
        if p.has("inline_message_id"):
            raise bad_request("MESSAGE_ID_INVALID")
        chat = self.chat_for(bot, p)
        msg = self.own_message(bot, chat, p, "message to edit not found")
        if msg.photo is None and msg.document is None:
            raise bad_request("there is no caption in the message to edit")
        caption, entities = self._caption(p)
        markup = self.markup(p)
        if (caption, entities, markup) == (msg.caption, msg.caption_entities, msg.reply_markup):
            raise bad_request(NOT_MODIFIED)
        msg.caption, msg.caption_entities, msg.reply_markup = caption, entities, markup
        msg.edit_date = int(time.time())
        return message_json(msg, chat, self.state)

    async def edit_message_reply_markup(self, bot: BotAccount, p: Params) -> JSON:
        if p.has("inline_message_id"):
            raise bad_request("MESSAGE_ID_INVALID")
        chat = self.chat_for(bot, p)
        msg = self.own_message(bot, chat, p, "message to edit not found")
        markup = self.markup(p)
        if markup == msg.reply_markup:
            raise bad_request(NOT_MODIFIED)
        msg.reply_markup = markup
        msg.edit_date = int(time.time())
        return message_json(msg, chat, self.state)

    async def delete_message(self, bot: BotAccount, p: Params) -> bool:
        chat = self.chat_for(bot, p)
        mid = p.integer("message_id")
        if mid is None:
            raise bad_request("message identifier is not specified")
        msg = chat.messages.get(mid)
        if msg is None or msg.deleted or msg.service:
            raise bad_request("message to delete not found")
        is_admin = chat.members.get(bot.id) in ("administrator", "creator")
        if msg.sender_id != bot.id and chat.type != "private" and not is_admin:
            raise bad_request("message can't be deleted")
        msg.deleted = True
        return True

    async def stop_poll(self, bot: BotAccount, p: Params) -> JSON:
        chat = self.chat_for(bot, p)
        mid = p.integer("message_id")
        msg = chat.messages.get(mid) if mid is not None else None
        poll = self.state.polls.get(msg.poll_id) if msg and msg.poll_id else None
        if msg is None or msg.deleted or poll is None or msg.sender_id != bot.id:
            raise bad_request("message with poll to stop not found")
        if poll.is_closed:
            raise bad_request("poll has already been closed")
        if p.has("reply_markup"):
            msg.reply_markup = self.markup(p)
        poll.is_closed = True
        self.sb.hub.emit(bot, "poll", poll_json(poll))
        return poll_json(poll)

    async def answer_callback_query(self, bot: BotAccount, p: Params) -> bool:
        query = self.state.callbacks.get(p.text("callback_query_id") or "")
        if query is None or query.bot_id != bot.id or query.answer is not None:
            raise bad_request(
                "query is too old and response timeout expired or query ID is invalid"
            )
        text = p.text("text")
        if text is not None and utf16_len(text) > 200:
            raise bad_request("MESSAGE_TOO_LONG")
        query.answer = {
            "text": text,
            "show_alert": p.flag("show_alert"),
            "url": p.text("url"),
            "cache_time": p.integer("cache_time") or 0,
        }
        return True

    async def get_chat(self, bot: BotAccount, p: Params) -> JSON:
        return chat_full_info_json(self.chat_for(bot, p), self.state)

    def _member_user(self, p: Params) -> User:
        uid = p.integer("user_id")
        if uid is None:
            raise bad_request("user_id is empty")
        bot = self.state.bots.get(uid)
        user = bot.user if bot is not None else self.state.users.get(uid)
        if user is None:
            raise bad_request("user not found")
        return user

    async def get_chat_member(self, bot: BotAccount, p: Params) -> JSON:
        chat = self.chat_for(bot, p)
        user = self._member_user(p)
        return chat_member_json(user, chat.status_of(user.id))

    async def get_chat_member_count(self, bot: BotAccount, p: Params) -> int:
        chat = self.chat_for(bot, p)
        return sum(1 for s in chat.members.values() if s in ACTIVE_STATUSES)

    async def get_chat_administrators(self, bot: BotAccount, p: Params) -> list[JSON]:
        chat = self.chat_for(bot, p)
        out: list[JSON] = []
        for member_id, status in chat.members.items():
            if status in ("creator", "administrator"):
                other = self.state.bots.get(member_id)
                user = other.user if other is not None else self.state.users.get(member_id)
                if user is not None:
                    out.append(chat_member_json(user, status))
        return out

    async def leave_chat(self, bot: BotAccount, p: Params) -> bool:
        chat = self.chat_for(bot, p)
        if chat.type == "private":
            raise bad_request("chat member status can't be changed in private chats")
        old = chat.members[bot.id]
        chat.members[bot.id] = "left"
        events.my_chat_member(self.sb, bot, chat, bot.user, old, "left")
        return True

    @staticmethod
    def _commands_key(p: Params) -> tuple[str, int, str]:
        try:
            scope = p.json("scope")
        except ValueError:
            raise bad_request("can't parse BotCommandScope JSON object") from None
        scope_type, scope_chat = "default", 0
        if isinstance(scope, dict):
            scope_type = str(scope.get("type") or "default")
            chat_id = scope.get("chat_id")
            scope_chat = (
                int(chat_id)
                if isinstance(chat_id, int | str) and str(chat_id).lstrip("-").isdigit()
                else 0
            )
        return scope_type, scope_chat, p.text("language_code") or ""

    async def set_my_commands(self, bot: BotAccount, p: Params) -> bool:
        try:
            commands = p.json("commands")
        except ValueError:
            raise bad_request("can't parse commands JSON object") from None
        if not isinstance(commands, list):
            raise bad_request('field "commands" must be of type Array')
        if len(commands) > 100:
            raise bad_request("too many commands specified")
        parsed: list[JSON] = []
        for c in commands:
            if not isinstance(c, dict):
                raise bad_request("can't parse BotCommand: BotCommand should be an Object")
            command, description = c.get("command"), c.get("description")
            if not isinstance(command, str) or not COMMAND_RE.fullmatch(command.lstrip("/")):
                raise bad_request("BOT_COMMAND_INVALID")
            if not isinstance(description, str) or not 1 <= len(description.strip()) <= 256:
                raise bad_request("BOT_COMMAND_DESCRIPTION_INVALID")
            parsed.append(command_json(command.lstrip("/"), description.strip()))
        bot.commands[self._commands_key(p)] = parsed
        return True

    async def get_my_commands(self, bot: BotAccount, p: Params) -> list[JSON]:
        return bot.commands.get(self._commands_key(p), [])

    async def delete_my_commands(self, bot: BotAccount, p: Params) -> bool:
        bot.commands.pop(self._commands_key(p), None)
        return True
