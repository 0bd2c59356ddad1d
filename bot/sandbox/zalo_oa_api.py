"""Zalo Official Account Open API v3 under /zalo-oa/ (shared/platforms.md, "Zalo OA").

One OA per sandbox. Its followers are the sandbox's private `zalo_oa` chats (chat id = user id)
and its GMF groups the `zalo_oa` groups it is a member of. Paths mirror the real hosts:
`{base}/v4/oa/access_token` (oauth.zaloapp.com) and `{base}/v3.0/oa/...` (openapi.zalo.me).
Every answer is HTTP 200 with the envelope {error, message, data}, as Zalo's are; OAuth answers
{access_token, refresh_token, expires_in} or {error, error_name, error_description}.

Rules it enforces: the access token in the `access_token` header (-216 when unknown or
expired; an old access token stays valid until it expires after a refresh [?]); single-use
refresh tokens; consultation only within 7 days of the user's last message (-230) and at most
8 per interaction (-211); promotion at most once a day per user and `promotion_monthly_quota`
a month per user (-211); text up to 2000 characters (-201); followers only (-213).
Events go to `webhook_url`, signed `X-ZEvent-Signature: mac=sha256(id + body + timestamp +
webhook_secret)` where id is the app id or, with `sign_with_oa_id`, the OA id.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import aiohttp
from aiohttp import web

from .state import JSON, Chat, LogEntry, Message, User

if TYPE_CHECKING:
    from .app import Sandbox

OA_ID = 2_000_000_002  # the OA's own id (also its member id in groups)
APP_ID = "1000000000000000001"
SECRET_KEY = "sandbox-oa-app-secret"  # the app's secret_key header for OAuth
WEBHOOK_SECRET = "sandbox-oa-webhook-secret"  # the "OA secret key" that signs events
FIRST_REFRESH_TOKEN = "sandbox-oa-refresh-0"
ACCESS_TTL = 90_000  # seconds (25 h)
MAX_TEXT = 2000
CS_WINDOW = 7 * 24 * 3600
CS_PER_INTERACTION = 8
_VN = 7 * 3600  # days and months are counted in Vietnam's time

# Error codes as Zalo answers them [3p]: text for operators, never message text.
E_PARAMS, E_QUOTA, E_NOT_FOLLOWER, E_TOKEN, E_WINDOW = -201, -211, -213, -216, -230
E_REFRESH = -14014  # OAuth: refresh token invalid or used [?]


@dataclass
class Follower:
    last_interaction: float | None = None
    cs_since_interaction: int = 0
    promotions: list[float] = field(default_factory=list)  # when each was sent


@dataclass
class OaState:
    app_id: str = APP_ID
    secret_key: str = SECRET_KEY
    webhook_secret: str = WEBHOOK_SECRET
    webhook_url: str | None = None
    sign_with_oa_id: bool = False
    promotion_monthly_quota: int = 4
    access_tokens: dict[str, float] = field(default_factory=dict)  # token -> expires at
    refresh_tokens: set[str] = field(default_factory=lambda: {FIRST_REFRESH_TOKEN})
    followers: dict[int, Follower] = field(default_factory=dict)
    sent: dict[str, tuple[int, int]] = field(default_factory=dict)  # msg_id -> chat, message
    events: list[JSON] = field(default_factory=list)  # every event posted, for tests


def _day(t: float) -> int:
    return int((t + _VN) // 86400)


def _month(t: float) -> tuple[int, int]:
    d = datetime.fromtimestamp(t + _VN, UTC)
    return d.year, d.month


def signature(key_id: str, body: bytes, timestamp: str, secret: str) -> str:
    """The X-ZEvent-Signature value of one event."""
    digest = hashlib.sha256(key_id.encode() + body + timestamp.encode() + secret.encode())
    return f"mac={digest.hexdigest()}"


class ZaloOaApi:
    """The OA's routes, state and webhook sender (`sb.zalo_oa`)."""

    def __init__(self, sb: Sandbox) -> None:
        self.sb = sb
        self.state = OaState()
        self.clock: Callable[[], float] = time.time  # tests move the OA's days and months
        self._queue: asyncio.Queue[JSON] | None = None
        self._worker: asyncio.Task[None] | None = None
        self._session: aiohttp.ClientSession | None = None

    def setup(self, app: web.Application) -> None:
        r = app.router
        r.add_post("/zalo-oa/v4/oa/access_token", self.access_token)
        r.add_post("/zalo-oa/v3.0/oa/message/{kind}", self.send)
        # v2.0's single "message" endpoint, which older clients still call: a consultation.
        r.add_post("/zalo-oa/v2.0/oa/message", self.send)
        r.add_post("/zalo-oa/v3.0/oa/group/message", self.send_group)
        r.add_get("/zalo-oa/v3.0/oa/group/getgroup", self.get_group)
        r.add_route("*", "/zalo-oa/v3.0/oa/quota/message", self.quota)

    def reset(self) -> None:
        self.state = OaState()

    def oa_member(self) -> None:
        """The OA as a member id the sandbox can show (named like an OA, never a bot token)."""
        bot = self.sb.bot_by_id(OA_ID)
        bot.user.first_name = "OA Phường (sandbox)"
        bot.user.username = None

    # --- control ------------------------------------------------------------------------------

    def configure(self, **values: Any) -> JSON:
        for name, value in values.items():
            if value is not None and hasattr(self.state, name):
                setattr(self.state, name, value)
        return self.describe()

    def describe(self) -> JSON:
        s = self.state
        return {
            "app_id": s.app_id,
            "oa_id": str(OA_ID),
            "webhook_url": s.webhook_url,
            "sign_with_oa_id": s.sign_with_oa_id,
            "promotion_monthly_quota": s.promotion_monthly_quota,
            "followers": sorted(s.followers),
        }

    def issue_refresh_token(self) -> str:
        """A new valid refresh token, as re-authorising the app in Zalo's console gives."""
        token = f"sandbox-oa-refresh-{secrets.token_urlsafe(12)}"
        self.state.refresh_tokens.add(token)
        return token

    def expire_access_tokens(self) -> None:
        self.state.access_tokens = dict.fromkeys(self.state.access_tokens, 0.0)

    def follow(self, user: User) -> Chat:
        """The user follows the OA: a private zalo_oa chat, a `follow` event."""
        self.oa_member()
        chat = self.sb.state.chats.get(user.id)
        if chat is None:
            chat = Chat(id=user.id, platform="zalo_oa", type="private", title=user.first_name)
            self.sb.state.chats[chat.id] = chat
        elif chat.platform != "zalo_oa":
            raise web.HTTPConflict(reason=f"user {user.id} has a {chat.platform} chat")
        chat.members[user.id] = "member"
        chat.members[OA_ID] = "member"
        self.state.followers.setdefault(user.id, Follower())
        self.emit(
            {
                "event_name": "follow",
                "oa_id": str(OA_ID),
                "source": "sandbox",
                "follower": {"id": str(user.id)},
                "user_id_by_app": str(user.id),
            }
        )
        return chat

    def unfollow(self, user: User) -> None:
        chat = self.sb.state.chats.get(user.id)
        self.state.followers.pop(user.id, None)
        if chat is not None and chat.platform == "zalo_oa":
            chat.members[user.id] = "left"
        self.emit(
            {
                "event_name": "unfollow",
                "oa_id": str(OA_ID),
                "source": "sandbox",
                "follower": {"id": str(user.id)},
                "user_id_by_app": str(user.id),
            }
        )

    def user_wrote(self, chat: Chat, msg: Message) -> None:
        """A follower's message: the interaction window opens, a `user_send_text` event."""
        if chat.type != "private":
            return  # GMF group chatter is not sent to the OA's webhook here
        follower = self.state.followers.setdefault(chat.id, Follower())
        follower.last_interaction = self.clock()
        follower.cs_since_interaction = 0
        msg_id = self._msg_id()
        self.state.sent[msg_id] = (chat.id, msg.message_id)
        self.emit(
            {
                "event_name": "user_send_text",
                "sender": {"id": str(chat.id)},
                "recipient": {"id": str(OA_ID)},
                "user_id_by_app": str(chat.id),
                "message": {"msg_id": msg_id, "text": msg.text or ""},
            }
        )

    def seen(self, user_id: int, msg_ids: list[str]) -> None:
        """The follower opened the OA's messages: `user_seen_message`."""
        mine = [m for m in msg_ids if self.state.sent.get(m, (None,))[0] == user_id]
        if not mine:
            raise web.HTTPNotFound(reason="no such message sent to this follower")
        self.emit(
            {
                "event_name": "user_seen_message",
                "sender": {"id": str(OA_ID)},
                "recipient": {"id": str(user_id)},
                "message": {"msg_ids": mine},
            }
        )

    def msg_ids_of(self, chat_id: int) -> list[str]:
        return [m for m, (c, _) in self.state.sent.items() if c == chat_id]

    # --- events -------------------------------------------------------------------------------

    def emit(self, event: JSON) -> None:
        event = {"app_id": self.state.app_id, "timestamp": str(int(time.time() * 1000)), **event}
        self.state.events.append(event)
        if self.state.webhook_url is None:
            return
        if self._queue is None:
            self._queue = asyncio.Queue()
            self._worker = asyncio.create_task(self._deliver(self._queue))
        self._queue.put_nowait(event)

    async def _deliver(self, queue: asyncio.Queue[JSON]) -> None:
        """One event at a time, in order; a refused event is tried 5 times over ~8 s, then
        dropped (Zalo, too, stops retrying)."""
        while True:
            event = await queue.get()
            for attempt in range(5):
                if await self._post(event):
                    break
                await asyncio.sleep(0.5 * 2**attempt)

    async def _post(self, event: JSON) -> bool:
        s = self.state
        if s.webhook_url is None:
            return True
        if self._session is None:
            self._session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=10))
        body = json.dumps(event, ensure_ascii=False).encode()
        key_id = str(OA_ID) if s.sign_with_oa_id else s.app_id
        headers = {
            "Content-Type": "application/json",
            "X-ZEvent-Signature": signature(key_id, body, event["timestamp"], s.webhook_secret),
        }
        try:
            async with self._session.post(s.webhook_url, data=body, headers=headers) as resp:
                return resp.status == 200
        except (aiohttp.ClientError, TimeoutError):
            return False

    async def close(self) -> None:
        if self._worker is not None:
            self._worker.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._worker
        self._worker = self._queue = None
        if self._session is not None:
            await self._session.close()
            self._session = None

    # --- OAuth --------------------------------------------------------------------------------

    async def access_token(self, request: web.Request) -> web.Response:
        form = await request.post()
        s = self.state
        params = {k: str(v) for k, v in form.items() if k != "refresh_token"}
        if request.headers.get("secret_key") != s.secret_key or form.get("app_id") != s.app_id:
            return self._oauth_error(request, params, -14002, "Invalid app_id or secret_key")
        if form.get("grant_type") != "refresh_token":
            return self._oauth_error(request, params, -14001, "grant_type must be refresh_token")
        old = str(form.get("refresh_token", ""))
        if old not in s.refresh_tokens:
            return self._oauth_error(request, params, E_REFRESH, "Invalid refresh token")
        s.refresh_tokens.discard(old)  # single use
        access, refresh = secrets.token_urlsafe(24), self.issue_refresh_token()
        s.access_tokens[access] = time.time() + ACCESS_TTL
        self._log(request, "access_token", None, 200, params)
        return web.json_response(
            {"access_token": access, "refresh_token": refresh, "expires_in": str(ACCESS_TTL)}
        )

    def _oauth_error(
        self, request: web.Request, params: JSON, code: int, name: str
    ) -> web.Response:
        self._log(request, "access_token", None, 200, params, error=code)
        return web.json_response(
            {"error": code, "error_name": name, "error_reason": name, "error_description": name}
        )

    # --- messages -----------------------------------------------------------------------------

    async def send(self, request: web.Request) -> web.Response:
        kind = request.match_info.get("kind", "cs")
        method = f"message/{kind}"
        if kind not in ("cs", "transaction", "promotion"):
            return self._fail(request, method, None, {}, -210, "Unknown message type", 404)
        body, problem = await self._authorised_body(request)
        if problem is not None:
            return self._fail(request, method, None, body, *problem)
        recipient = _get(body, "recipient", "user_id")
        user_id = int(recipient) if isinstance(recipient, str) and recipient.isdigit() else None
        follower = self.state.followers.get(user_id) if user_id is not None else None
        chat = self.sb.state.chats.get(user_id) if user_id is not None else None
        if follower is None or chat is None:
            return self._fail(
                request, method, recipient, body, E_NOT_FOLLOWER, "User has not followed OA"
            )
        text, markup, problem = _message(body)
        if problem is not None:
            return self._fail(request, method, user_id, body, *problem)
        now = self.clock()
        refused = self._spend(kind, follower, now)
        if refused is not None:
            return self._fail(request, method, user_id, body, *refused)
        msg_id = self._store(chat, text, markup)
        self._log(request, method, user_id, 200, body)
        self.emit(
            {
                "event_name": "user_received_message",
                "sender": {"id": str(OA_ID)},
                "recipient": {"id": str(user_id)},
                "message": {"msg_ids": [msg_id]},
            }
        )
        return _ok({"message_id": msg_id, "user_id": str(user_id)})

    async def send_group(self, request: web.Request) -> web.Response:
        method = "group/message"
        body, problem = await self._authorised_body(request)
        if problem is not None:
            return self._fail(request, method, None, body, *problem)
        group_id = _get(body, "recipient", "group_id")
        chat = self._group(group_id)
        if chat is None:
            return self._fail(request, method, group_id, body, E_PARAMS, "Group not found")
        text, markup, problem = _message(body)
        if problem is not None:
            return self._fail(request, method, chat.id, body, *problem)
        msg_id = self._store(chat, text, markup)
        self._log(request, method, chat.id, 200, body)
        return _ok({"message_id": msg_id})

    async def get_group(self, request: web.Request) -> web.Response:
        if (problem := self._token_problem(request)) is not None:
            return self._fail(request, "group/getgroup", None, {}, *problem)
        group_id = request.query.get("group_id")
        chat = self._group(group_id)
        if chat is None:
            return self._fail(request, "group/getgroup", group_id, {}, E_PARAMS, "Group not found")
        self._log(request, "group/getgroup", chat.id, 200, dict(request.query))
        total = len(self.sb.state.human_members(chat))
        info = {"group_id": str(chat.id), "name": chat.title or "", "total_member": total}
        return _ok({"group_info": info})

    async def quota(self, request: web.Request) -> web.Response:
        if (problem := self._token_problem(request)) is not None:
            return self._fail(request, "quota/message", None, {}, *problem)
        body = await _json(request) if request.method == "POST" else dict(request.query)
        user = body.get("user_id") if isinstance(body, dict) else None
        cap = self.state.promotion_monthly_quota
        data: JSON = {"promotion": {"monthly_quota_per_user": cap, "daily_per_user": 1}}
        follower = self.state.followers.get(int(str(user))) if str(user).isdigit() else None
        if follower is not None:
            now = self.clock()
            month = sum(1 for t in follower.promotions if _month(t) == _month(now))
            today = any(_day(t) == _day(now) for t in follower.promotions)
            data["promotion"]["remain"] = 0 if today else max(0, cap - month)
        self._log(request, "quota/message", None, 200, body if isinstance(body, dict) else {})
        return _ok(data)

    # --- helpers ------------------------------------------------------------------------------

    def _token_problem(self, request: web.Request) -> tuple[int, str] | None:
        token = request.headers.get("access_token", "")
        expires = self.state.access_tokens.get(token)
        if expires is None or expires <= time.time():
            return E_TOKEN, "Access token is invalid or expired"
        return None

    async def _authorised_body(self, request: web.Request) -> tuple[JSON, tuple[int, str] | None]:
        body = await _json(request)
        if not isinstance(body, dict):
            return {}, (E_PARAMS, "Body must be a JSON object")
        return body, self._token_problem(request)

    def _group(self, group_id: Any) -> Chat | None:
        try:
            chat = self.sb.state.chats.get(int(group_id))
        except (TypeError, ValueError):
            return None
        if chat is None or chat.platform != "zalo_oa" or chat.type == "private":
            return None
        return chat if chat.is_member(OA_ID) else None

    def _store(self, chat: Chat, text: str, markup: JSON | None) -> str:
        self.oa_member()
        msg = Message(
            message_id=chat.take_message_id(),
            chat_id=chat.id,
            date=int(time.time()),
            sender_id=OA_ID,
            text=text,
            reply_markup=markup,
        )
        chat.messages[msg.message_id] = msg
        msg_id = self._msg_id()
        self.state.sent[msg_id] = (chat.id, msg.message_id)
        return msg_id

    def _msg_id(self) -> str:
        return f"{self.sb.state.serial():016x}{secrets.token_hex(8)}"

    def _spend(self, kind: str, follower: Follower, now: float) -> tuple[int, str] | None:
        """Count a message of `kind` against the follower's quotas; why Zalo refuses it, if
        it does (then nothing is counted)."""
        if kind == "cs":
            seen = follower.last_interaction
            if seen is None or now - seen > CS_WINDOW:
                return E_WINDOW, "User has not interacted with the OA in the past 7 days"
            if follower.cs_since_interaction >= CS_PER_INTERACTION:
                return E_QUOTA, "Out of consultation quota for this user"
            follower.cs_since_interaction += 1
        elif kind == "promotion":
            if any(_day(t) == _day(now) for t in follower.promotions):
                return E_QUOTA, "User has received a promotion message today"
            month = [t for t in follower.promotions if _month(t) == _month(now)]
            if len(month) >= self.state.promotion_monthly_quota:
                return E_QUOTA, "Out of monthly promotion quota for this user"
            follower.promotions.append(now)
        return None

    def _fail(
        self,
        request: web.Request,
        method: str,
        chat_id: Any,
        body: JSON,
        code: int,
        message: str,
        status: int = 200,
    ) -> web.Response:
        self._log(request, method, chat_id, status, body, error=code)
        return web.json_response({"error": code, "message": message}, status=status)

    def _log(
        self,
        request: web.Request,
        method: str,
        chat_id: Any,
        status: int,
        params: JSON,
        error: int | None = None,
    ) -> None:
        entry = LogEntry(time.time(), "zalo_oa", method, None, chat_id, status, params)
        if error is not None:
            entry.fault = None
            entry.params = {**params, "error": error}
        self.sb.state.log.append(entry)


def _ok(data: JSON) -> web.Response:
    return web.json_response({"error": 0, "message": "Success", "data": data})


async def _json(request: web.Request) -> Any:
    try:
        return await request.json(loads=json.loads)
    except ValueError:
        return None


def _get(body: Any, *path: str) -> Any:
    value: Any = body
    for key in path:
        value = value.get(key) if isinstance(value, dict) else None
    return value


def _message(body: JSON) -> tuple[str, JSON | None, tuple[int, str] | None]:
    """The text and (Telegram-shaped, for the UI) buttons of `message`, or the error."""
    message = body.get("message")
    text = message.get("text") if isinstance(message, dict) else None
    if not isinstance(text, str) or not text.strip():
        return "", None, (E_PARAMS, "message.text is required")
    if len(text) > MAX_TEXT:
        return "", None, (E_PARAMS, f"Text length exceeds {MAX_TEXT} characters")
    buttons = _get(message, "attachment", "payload", "buttons")
    if buttons is None:
        return text, None, None
    rows: list[list[JSON]] = []
    for button in buttons if isinstance(buttons, list) else [None]:
        kind = button.get("type") if isinstance(button, dict) else None
        title = button.get("title") if isinstance(button, dict) else None
        payload = button.get("payload") if isinstance(button, dict) else None
        if kind not in ("oa.query.show", "oa.query.hide", "oa.open.url") or not title:
            return "", None, (E_PARAMS, "A button needs a title and a known type")
        if kind == "oa.open.url":
            url = payload.get("url") if isinstance(payload, dict) else None
            rows.append([{"text": title, "url": url}])
        elif not isinstance(payload, str) or not payload:
            return "", None, (E_PARAMS, "A query button needs a payload")
        else:
            rows.append([{"text": title, "callback_data": payload}])
    return text, {"inline_keyboard": rows} if rows else None, None
