"""The sandbox's own JSON API under /sandbox/api/: set up the world, act in it, inspect it."""

from __future__ import annotations

import base64
import json
from typing import TYPE_CHECKING, Any

from aiohttp import web

from . import events, zalo_oa_control
from .events import WorldError
from .formatting import entities_to_html
from .limits import FAULT_KINDS
from .params import Upload
from .state import JSON, PLATFORMS, Chat, LogEntry, Message, StoredFile, User
from .telegram_api import TOKEN_RE
from .tg_objects import poll_json
from .zalo_bot_api import group_chat_id, private_chat_id

if TYPE_CHECKING:
    from .app import Sandbox

MAX_LOG_STRING = 500
MAX_LOG_ITEMS = 50


def _error(message: str, status: int) -> web.Response:
    return web.json_response({"error": message}, status=status)


@web.middleware
async def json_errors(request: web.Request, handler: Any) -> web.StreamResponse:
    try:
        response: web.StreamResponse = await handler(request)
        return response
    except WorldError as exc:
        return _error(str(exc), exc.status)
    except web.HTTPException as exc:
        if exc.status < 400:
            raise
        return _error(exc.reason, exc.status)


async def _body(request: web.Request) -> JSON:
    if not request.body_exists:
        return {}
    raw = await request.read()
    if not raw.strip():
        return {}
    try:
        data = json.loads(raw)
    except ValueError:
        raise WorldError("the body is not valid JSON") from None
    if not isinstance(data, dict):
        raise WorldError("the body must be a JSON object")
    return data


def _int(data: JSON | Any, name: str, *, required: bool = True) -> int | None:
    v = data.get(name)
    if v is None or v == "":
        if required:
            raise WorldError(f"{name} is required")
        return None
    if isinstance(v, bool):
        raise WorldError(f"{name} must be an integer")
    try:
        return int(v)
    except (TypeError, ValueError):
        raise WorldError(f"{name} must be an integer") from None


def _req_int(data: JSON | Any, name: str) -> int:
    v = _int(data, name)
    assert v is not None
    return v


def _log_view(value: Any, depth: int = 0) -> Any:
    """A bounded, JSON-safe copy of a logged parameter value."""
    if isinstance(value, str):
        if depth == 0 and value[:1] in "[{":
            try:
                return _log_view(json.loads(value), depth + 1)
            except ValueError:
                pass
        if len(value) > MAX_LOG_STRING:
            return f"{value[:MAX_LOG_STRING]}…(+{len(value) - MAX_LOG_STRING} chars)"
        return value
    if isinstance(value, Upload):
        return value.describe()
    if depth > 6:
        return "…"
    if isinstance(value, dict):
        items = list(value.items())
        out = {str(k): _log_view(v, depth + 1) for k, v in items[:MAX_LOG_ITEMS]}
        if len(items) > MAX_LOG_ITEMS:
            out["…"] = f"+{len(items) - MAX_LOG_ITEMS} keys"
        return out
    if isinstance(value, list | tuple):
        seq = [_log_view(v, depth + 1) for v in value[:MAX_LOG_ITEMS]]
        if len(value) > MAX_LOG_ITEMS:
            seq.append(f"…(+{len(value) - MAX_LOG_ITEMS} items)")
        return seq
    return value


def log_entry_json(e: LogEntry) -> JSON:
    out: JSON = {
        "t": e.t,
        "platform": e.platform,
        "method": e.method,
        "bot_id": e.bot_id,
        "chat_id": e.chat_id,
        "status": e.status,
        "params": {k: _log_view(v) for k, v in e.params.items()},
    }
    if e.fault:
        out["fault"] = e.fault
    return out


class ControlApi:
    def __init__(self, sb: Sandbox) -> None:
        self.sb = sb

    def app(self) -> web.Application:
        app = web.Application(middlewares=[json_errors])
        r = app.router
        r.add_get("/users", self.list_users)
        r.add_post("/users", self.create_user)
        r.add_get("/bots", self.list_bots)
        r.add_post("/bots", self.create_bot)
        r.add_get("/bots/{id}/updates", self.pending_updates)
        r.add_get("/chats", self.list_chats)
        r.add_post("/chats", self.create_chat)
        r.add_get("/chats/{id}", self.get_chat)
        r.add_post("/chats/{id}/members", self.add_member)
        r.add_delete("/chats/{id}/members/{user_id}", self.remove_member)
        r.add_get("/chats/{id}/messages", self.list_messages)
        r.add_post("/chats/{id}/messages", self.write)
        r.add_post("/chats/{id}/files", self.send_file)
        r.add_post("/chats/{id}/press", self.press)
        r.add_post("/chats/{id}/migrate", self.migrate)
        r.add_get("/polls/{id}", self.get_poll)
        r.add_post("/polls/{id}/answer", self.answer_poll)
        r.add_get("/callbacks/{id}", self.get_callback)
        r.add_get("/log", self.log)
        r.add_get("/faults", self.list_faults)
        r.add_post("/faults", self.add_fault)
        r.add_delete("/faults", self.clear_faults)
        r.add_delete("/faults/{id}", self.delete_fault)
        r.add_get("/limits", self.get_limits)
        r.add_post("/limits", self.set_limits)
        r.add_post("/reset", self.reset)
        zalo_oa_control.add_routes(r, self)
        r.add_route("*", "/{tail:.*}", self.not_found)
        return app

    # --- lookups ------------------------------------------------------------------------------

    def _chat(self, request: web.Request) -> Chat:
        chat_id = _req_int(request.match_info, "id")
        chat = self.sb.state.chats.get(chat_id)
        if chat is None:
            raise WorldError(f"unknown chat {chat_id}", 404)
        return chat

    def _user(self, user_id: int) -> User:
        user = self.sb.state.users.get(user_id)
        if user is None:
            raise WorldError(f"unknown user {user_id}", 404)
        return user

    def chat_summary(self, chat: Chat) -> JSON:
        state = self.sb.state
        return {
            "id": chat.id,
            "platform": chat.platform,
            "type": chat.type,
            "title": chat.title if chat.type != "private" else self._private_title(chat),
            "members_count": sum(1 for m in chat.members if chat.is_member(m)),
            "bot_members": [b.id for b in state.bot_members(chat)],
            "migrated_to": chat.migrated_to,
            "migrated_from": chat.migrated_from,
            "message_count": len(chat.messages),
        }

    def _private_title(self, chat: Chat) -> str:
        people = [m for m in chat.members if m in self.sb.state.users]
        user = self.sb.state.users.get(people[0]) if people else None
        return chat.title or (user.first_name if user else str(chat.id))

    def _sender(self, sender_id: int) -> JSON:
        state = self.sb.state
        bot = state.bots.get(sender_id)
        if bot is not None:
            return {"id": bot.id, "name": bot.user.first_name, "username": bot.user.username,
                    "is_bot": True}  # fmt: skip
        user = state.users.get(sender_id)
        name = user.first_name if user else str(sender_id)
        return {"id": sender_id, "name": name, "is_bot": False}

    def message_view(self, msg: Message) -> JSON:
        state = self.sb.state
        body = msg.text if msg.text is not None else msg.caption
        entities = msg.entities if msg.text is not None else msg.caption_entities
        out: JSON = {
            "message_id": msg.message_id,
            "date": msg.date,
            "sender": self._sender(msg.sender_id),
            "text": msg.text,
            "caption": msg.caption,
            "entities": entities,
            "html": entities_to_html(body, entities) if body is not None else None,
            "reply_markup": msg.reply_markup,
            "reply_to_message_id": msg.reply_to,
            "edited": msg.edit_date is not None,
            "edit_date": msg.edit_date,
            "deleted": msg.deleted,
            "poll": None,
            "photo": msg.photo,
            "document": msg.document,
            "service": msg.service,
        }
        if msg.poll_id is not None and msg.poll_id in state.polls:
            out["poll"] = self.poll_view(msg.poll_id)
        return out

    def poll_view(self, poll_id: str) -> JSON:
        poll = self.sb.state.polls[poll_id]
        return {
            **poll_json(poll),
            "chat_id": poll.chat_id,
            "message_id": poll.message_id,
            "votes": {str(uid): ids for uid, ids in poll.votes.items()},
        }

    # --- users and bots -----------------------------------------------------------------------

    async def list_users(self, request: web.Request) -> web.Response:
        return web.json_response(
            [
                {"id": u.id, "name": u.first_name, "username": u.username}
                for u in self.sb.state.users.values()
            ]
        )

    async def create_user(self, request: web.Request) -> web.Response:
        body = await _body(request)
        name = body.get("name")
        if not isinstance(name, str) or not name.strip():
            raise WorldError("name is required")
        username = body.get("username")
        if username is not None and not isinstance(username, str):
            raise WorldError("username must be a string")
        state = self.sb.state
        user = User(id=state.new_user_id(), first_name=name.strip(), username=username or None)
        state.users[user.id] = user
        return web.json_response({"id": user.id, "name": user.first_name})

    async def list_bots(self, request: web.Request) -> web.Response:
        return web.json_response(
            [
                {
                    "id": b.id,
                    "username": b.user.username,
                    "first_name": b.user.first_name,
                    "token_prefix": b.token_prefix,
                    "webhook_url": b.webhook.url if b.webhook else None,
                    "pending_updates": len(b.updates),
                }
                for b in self.sb.state.bots.values()
            ]
        )

    async def create_bot(self, request: web.Request) -> web.Response:
        body = await _body(request)
        token = body.get("token")
        if not isinstance(token, str):
            raise WorldError("token is required")
        existing = self.sb.state.bots_by_token.get(token)
        if existing is None:
            m = TOKEN_RE.fullmatch(token)
            if m is None:
                raise WorldError("malformed token: expected <digits>:<10+ of A-Za-z0-9_->")
            known = self.sb.state.bots.get(int(m.group(1)))
            if known is not None and known.token:
                raise WorldError("a bot with this id is registered under another token", 409)
            existing = self.sb.register_bot(token)
        return web.json_response(
            {"id": existing.id, "username": existing.user.username}, status=201
        )

    async def pending_updates(self, request: web.Request) -> web.Response:
        bot = self.sb.state.bots.get(_req_int(request.match_info, "id"))
        if bot is None:
            raise WorldError("unknown bot", 404)
        return web.json_response(list(bot.updates))

    # --- chats --------------------------------------------------------------------------------

    async def list_chats(self, request: web.Request) -> web.Response:
        chats = list(self.sb.state.chats.values())
        q = request.query.get("q", "").strip().lower()
        if q:
            chats = [c for c in chats if q in (c.title or "").lower() or q in str(c.id)]
        limit = _int(request.query, "limit", required=False)
        if limit:
            chats = chats[:limit]
        return web.json_response([self.chat_summary(c) for c in chats])

    async def get_chat(self, request: web.Request) -> web.Response:
        chat = self._chat(request)
        out = self.chat_summary(chat)
        out["members"] = [
            {"id": m, "status": s, **self._sender(m)} for m, s in chat.members.items()
        ]
        return web.json_response(out)

    async def create_chat(self, request: web.Request) -> web.Response:
        body = await _body(request)
        state = self.sb.state
        platform = body.get("platform", "telegram")
        if platform not in PLATFORMS:
            raise WorldError(f"platform must be one of {', '.join(PLATFORMS)}")
        kind = body.get("type", "group")
        if kind not in ("group", "supergroup", "private"):
            raise WorldError("type must be group, supergroup or private")
        title = body.get("title")
        if title is not None and not isinstance(title, str):
            raise WorldError("title must be a string")
        members = body.get("members") or []
        if not isinstance(members, list):
            raise WorldError("members must be a list of user or bot ids")
        member_ids: list[int] = []
        for m in members:
            if isinstance(m, bool) or not isinstance(m, int) or m <= 0:
                raise WorldError("members must be a list of user or bot ids")
            if m not in state.users:
                self.sb.bot_by_id(m)  # not a user: a bot, perhaps before its first call
            member_ids.append(m)
        if kind == "private":
            user_id = _req_int(body, "user_id")
            self._user(user_id)
            if any(m != user_id and m not in state.bots for m in member_ids):
                raise WorldError("a private chat's other members can only be bots")
            chat_id = private_chat_id(user_id) if platform == "zalo_bot" else user_id
            if chat_id in state.chats:
                raise WorldError(f"chat {chat_id} already exists", 409)
            chat = Chat(id=chat_id, platform=platform, type="private", title=title)
            chat.members[user_id] = "member"
        else:
            if not title:
                raise WorldError("title is required for groups")
            if platform == "zalo_bot" and kind == "supergroup":
                raise WorldError("Zalo groups are of type group")
            if platform == "zalo_bot":
                new_id = group_chat_id(state.new_group_id())
            elif kind == "supergroup":
                new_id = state.new_supergroup_id()
            else:
                new_id = state.new_group_id()
            chat = Chat(id=new_id, platform=platform, type=kind, title=title)
        for m in member_ids:
            chat.members[m] = "member"  # bulk setup: no updates
        state.chats[chat.id] = chat
        return web.json_response(self.chat_summary(chat))

    async def add_member(self, request: web.Request) -> web.Response:
        chat = self._chat(request)
        body = await _body(request)
        status = body.get("status", "member")
        events.add_member(
            self.sb, chat, _req_int(body, "user_id"), _int(body, "by_user_id", required=False),
            str(status),
        )  # fmt: skip
        return web.json_response(self.chat_summary(chat))

    async def remove_member(self, request: web.Request) -> web.Response:
        chat = self._chat(request)
        q = request.query
        body = await _body(request)
        by = _int(body, "by_user_id", required=False) or _int(q, "by_user_id", required=False)
        status = body.get("status") or q.get("status") or "kicked"
        events.remove_member(self.sb, chat, _req_int(request.match_info, "user_id"), by, status)
        return web.json_response(self.chat_summary(chat))

    async def list_messages(self, request: web.Request) -> web.Response:
        chat = self._chat(request)
        q = request.query
        after = _int(q, "after", required=False)
        limit = _int(q, "limit", required=False)
        msgs = list(chat.messages.values())
        if after is not None:
            msgs = [m for m in msgs if m.message_id > after]
        if limit:
            msgs = msgs[-limit:]
        return web.json_response([self.message_view(m) for m in msgs])

    async def write(self, request: web.Request) -> web.Response:
        chat = self._chat(request)
        body = await _body(request)
        user = self._user(_req_int(body, "user_id"))
        kind = str(body.get("kind", "text"))
        text = body.get("text", None if kind == "text" else "")
        if not isinstance(text, str):
            raise WorldError("text is required")
        reply_to = _int(body, "reply_to_message_id", required=False)
        msg = events.user_writes(self.sb, chat, user, text, reply_to, kind)
        return web.json_response({"message_id": msg.message_id})

    async def send_file(self, request: web.Request) -> web.Response:
        """A user sends a photo or a document: {user_id, kind: photo|document, file_name?,
        mime_type?, size?, data? (base64), caption?, reply_to_message_id?}."""
        chat = self._chat(request)
        body = await _body(request)
        user = self._user(_req_int(body, "user_id"))
        kind = body.get("kind")
        if kind not in ("photo", "document"):
            raise WorldError("kind must be photo or document")
        try:
            data = base64.b64decode(str(body.get("data") or ""), validate=True)
        except ValueError:
            raise WorldError("data must be base64") from None
        size = _int(body, "size", required=False)
        name, mime, caption = (body.get(k) for k in ("file_name", "mime_type", "caption"))
        n = self.sb.state.serial()
        stored = StoredFile(
            f"{'AgAC' if kind == 'photo' else 'BQAC'}sbx{n:08d}", f"AQADsbx{n:06d}",
            name if isinstance(name, str) and kind == "document" else None,
            mime if isinstance(mime, str) and kind == "document" else None,
            len(data) if size is None else size, kind, data,
        )  # fmt: skip
        reply_to = _int(body, "reply_to_message_id", required=False)
        text = caption if isinstance(caption, str) else None
        msg = events.user_sends_file(self.sb, chat, user, stored, text, reply_to)
        return web.json_response({"message_id": msg.message_id, "file_id": stored.file_id})

    async def press(self, request: web.Request) -> web.Response:
        chat = self._chat(request)
        body = await _body(request)
        user = self._user(_req_int(body, "user_id"))
        data = body.get("callback_data")
        if not isinstance(data, str):
            raise WorldError("callback_data is required")
        query = events.press_button(self.sb, chat, user, _req_int(body, "message_id"), data)
        return web.json_response({"callback_query_id": query.id})

    async def migrate(self, request: web.Request) -> web.Response:
        chat = self._chat(request)
        body = await _body(request)
        new = events.migrate(self.sb, chat, _int(body, "by_user_id", required=False))
        return web.json_response({"new_id": new.id})

    # --- polls and callbacks ------------------------------------------------------------------

    async def get_poll(self, request: web.Request) -> web.Response:
        poll_id = request.match_info["id"]
        if poll_id not in self.sb.state.polls:
            raise WorldError(f"unknown poll {poll_id}", 404)
        return web.json_response(self.poll_view(poll_id))

    async def answer_poll(self, request: web.Request) -> web.Response:
        poll = self.sb.state.polls.get(request.match_info["id"])
        if poll is None:
            raise WorldError(f"unknown poll {request.match_info['id']}", 404)
        body = await _body(request)
        user = self._user(_req_int(body, "user_id"))
        option_ids = body.get("option_ids")
        if not isinstance(option_ids, list) or not all(
            isinstance(i, int) and not isinstance(i, bool) for i in option_ids
        ):
            raise WorldError("option_ids must be a list of integers")
        events.answer_poll(self.sb, poll, user, option_ids)
        return web.json_response(self.poll_view(poll.id))

    async def get_callback(self, request: web.Request) -> web.Response:
        query = self.sb.state.callbacks.get(request.match_info["id"])
        if query is None:
            raise WorldError("unknown callback query", 404)
        return web.json_response(
            {
                "id": query.id,
                "bot_id": query.bot_id,
                "user_id": query.user_id,
                "chat_id": query.chat_id,
                "message_id": query.message_id,
                "data": query.data,
                "answered": query.answer is not None,
                "answer": query.answer,
            }
        )

    # --- log, faults, limits, reset -----------------------------------------------------------

    async def log(self, request: web.Request) -> web.Response:
        q = request.query
        entries: list[LogEntry] = self.sb.state.log
        since = q.get("since")
        if since:
            try:
                t0 = float(since)
            except ValueError:
                raise WorldError("since must be a unix time in seconds") from None
            entries = [e for e in entries if e.t > t0]
        method = q.get("method")
        if method:
            entries = [e for e in entries if e.method.lower() == method.lower()]
        chat_id = q.get("chat_id")
        if chat_id:
            entries = [e for e in entries if str(e.chat_id) == chat_id]
        platform = q.get("platform")
        if platform:
            entries = [e for e in entries if e.platform == platform]
        limit = _int(q, "limit", required=False)
        if limit:
            entries = entries[-limit:]
        return web.json_response([log_entry_json(e) for e in entries])

    async def list_faults(self, request: web.Request) -> web.Response:
        return web.json_response([f.as_json() for f in self.sb.faults.faults])

    async def add_fault(self, request: web.Request) -> web.Response:
        body = await _body(request)
        faults = self.sb.faults
        if "seed" in body:
            seed = body["seed"]
            if seed is not None and (isinstance(seed, bool) or not isinstance(seed, int)):
                raise WorldError("seed must be an integer")
            faults.reseed(seed)
            if "status" not in body:
                return web.json_response({"seed": seed})
        status = body.get("status")
        if isinstance(status, str) and status.isdigit():
            status = int(status)
        if not (
            status in FAULT_KINDS
            or (isinstance(status, int) and not isinstance(status, bool) and 400 <= status <= 599)
        ):
            raise WorldError("status must be 429, 400, 403, 500 (any 4xx/5xx), timeout or drop")
        method = body.get("method")
        if method is not None and not isinstance(method, str):
            raise WorldError("method must be a string")
        chat_id = _int(body, "chat_id", required=False)
        retry_after = _int(body, "retry_after", required=False) or 5
        count = _int(body, "count", required=False)
        probability = body.get("probability", 1.0)
        if probability is None:
            probability = 1.0
        if isinstance(probability, bool) or not isinstance(probability, int | float):
            raise WorldError("probability must be a number from 0 to 1")
        if not 0.0 <= probability <= 1.0:
            raise WorldError("probability must be a number from 0 to 1")
        if count is not None and count < 1:
            raise WorldError("count must be at least 1")
        if retry_after < 1:
            raise WorldError("retry_after must be at least 1")
        description = body.get("description")
        if description is not None and not isinstance(description, str):
            raise WorldError("description must be a string")
        fault = faults.add(
            status=status,
            method=method.lower() if method else None,
            chat_id=None if chat_id is None else str(chat_id),
            retry_after=retry_after,
            probability=float(probability),
            count=count,
            description=description,
        )
        return web.json_response({"id": fault.id})

    async def clear_faults(self, request: web.Request) -> web.Response:
        self.sb.faults.clear()
        return web.json_response({"ok": True})

    async def delete_fault(self, request: web.Request) -> web.Response:
        fault_id = _req_int(request.match_info, "id")
        faults = self.sb.faults.faults
        kept = [f for f in faults if f.id != fault_id]
        if len(kept) == len(faults):
            raise WorldError(f"unknown fault {fault_id}", 404)
        faults[:] = kept
        return web.json_response({"ok": True})

    async def get_limits(self, request: web.Request) -> web.Response:
        lim = self.sb.limiter.limits
        return web.json_response(
            {
                "global_per_s": lim.global_per_s,
                "group_per_min": lim.group_per_min,
                "private_per_s": lim.private_per_s,
            }
        )

    async def set_limits(self, request: web.Request) -> web.Response:
        body = await _body(request)
        values: dict[str, int | None] = {}
        for name in ("global_per_s", "group_per_min", "private_per_s"):
            if name in body:
                value = body[name]
                if value is None:
                    values[name] = None
                    continue
                if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
                    raise WorldError(f"{name} must be a number, 0 or more")
                # Windows count whole calls; a fractional rate still limits (never rounds to off).
                values[name] = max(1, round(value)) if value > 0 else None
        unknown = set(body) - {"global_per_s", "group_per_min", "private_per_s"}
        if unknown:
            raise WorldError(f"unknown limit(s): {', '.join(sorted(unknown))}")
        self.sb.limiter.configure(**values)
        return await self.get_limits(request)

    async def reset(self, request: web.Request) -> web.Response:
        await self.sb.reset()
        return web.json_response({"ok": True})

    async def not_found(self, request: web.Request) -> web.Response:
        return _error(f"no such endpoint: {request.method} {request.path}", 404)
