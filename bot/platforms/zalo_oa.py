"""Zalo Official Account adapter (Open API v3): tokens, the message rules, GMF groups, events.

Chats: a follower's private chat is its Zalo user id; an OA group (GMF) is "group:<group_id>".
A private message goes as consultation (free) while the follower's window is open — they wrote
within 7 days and fewer than 8 consultations went since — otherwise as promotion, at most one
a day and `monthly_quota` a month per follower; a promotion that would pass either cap raises
`Postponed` before any request leaves. Transaction messages need an approved template and are
not used. Buttons are `oa.query.show` buttons whose payload (our button data) comes back as the
follower's text, and is parsed back into a button event.

Tokens (single-use refresh tokens): the new pair is committed before the new access token is
used; the access token is refreshed `REFRESH_MARGIN` before it expires, so a refresh whose new
pair was lost (a crash between Zalo's answer and the commit) leaves the old access token working
for hours while the operator is told to re-authorise; -216 refreshes and retries once.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any, Final

import aiohttp

from bot.domain import (
    Button,
    ChatType,
    EventKind,
    InboundEvent,
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
    Postponed,
    RateLimited,
    Retryable,
    SendResult,
)
from bot.platforms.capabilities import CAPABILITIES as ALL_CAPABILITIES
from bot.platforms.render import plain
from bot.services.zalo_oa_store import Tokens, ZaloOaStore
from bot.text import clean_payload

CAPABILITIES: Final = ALL_CAPABILITIES[Platform.ZALO_OA]
# ~20 sends/s [?]; no per-chat limits are published.
LIMITS: Final = ChannelLimits(global_per_s=20, group_per_min=0, private_per_s=0)
GROUP: Final = "group:"
CS_WINDOW: Final = timedelta(days=7)
CS_PER_INTERACTION: Final = 8
REFRESH_MARGIN: Final = timedelta(hours=12)  # of an access token's ~25 hours
VIETNAM: Final = timedelta(hours=7)  # Zalo counts days and months in Vietnam's time
# Error codes [3p]: token, quota, not a follower, outside the window, bad parameters.
E_TOKEN, E_QUOTA, E_NOT_FOLLOWER, E_WINDOW, E_PARAMS = -216, -211, -213, -230, -201
# What our buttons carry (content.campaign and handlers): "<prefix>:<args>", no spaces. A
# prefix may be one letter: a question's «Trả lời» is "q:<id>:a".
_BUTTON_DATA: Final = re.compile(r"[a-z]{1,12}:[A-Za-z0-9_:.\-]{1,60}")
_COMMAND: Final = re.compile(r"/(\w{1,32})(?:\s+(.*))?", re.DOTALL)
_EVENTS: Final = frozenset(
    {"user_send_text", "follow", "unfollow", "user_received_message", "user_seen_message"}
)

log = logging.getLogger(__name__)


class TokenRefused(Exception):
    """Zalo refused the stored refresh token: the operator must re-authorise the app."""


def _local_day_start(t: datetime) -> datetime:
    """The start of `t`'s day in Vietnam, as UTC."""
    local = (t + VIETNAM).replace(hour=0, minute=0, second=0, microsecond=0)
    return local - VIETNAM


def month_start(t: datetime) -> datetime:
    """The start of `t`'s month in Vietnam, as UTC."""
    local = t + VIETNAM
    return datetime(local.year, local.month, 1, tzinfo=UTC) - VIETNAM


def next_month_start(t: datetime) -> datetime:
    local = t + VIETNAM
    year, month = (local.year + 1, 1) if local.month == 12 else (local.year, local.month + 1)
    return datetime(year, month, 1, tzinfo=UTC) - VIETNAM


class ZaloOaAdapter:
    """The `PlatformAdapter` for a Zalo OA (or the sandbox's, at `api_url`/`oauth_url`)."""

    platform: Platform = Platform.ZALO_OA
    capabilities: Capabilities = CAPABILITIES
    limits: ChannelLimits = LIMITS

    def __init__(
        self,
        store: ZaloOaStore,
        *,
        app_id: str,
        secret_key: str,
        refresh_token: str | None,
        api_url: str,
        oauth_url: str,
        monthly_quota: int = 4,
        timeout: float = 10.0,
        pool_size: int = 64,
        clock: Any = None,
    ) -> None:
        self.store = store
        self.app_id, self._secret_key, self._configured = app_id, secret_key, refresh_token
        self.api_url, self.oauth_url = api_url.rstrip("/"), oauth_url.rstrip("/")
        self.monthly_quota = monthly_quota
        self._timeout, self._pool = timeout, pool_size
        self._clock = clock or (lambda: datetime.now(UTC))
        self._session: aiohttp.ClientSession | None = None
        self._tokens: Tokens | None = None
        self._refreshing = asyncio.Lock()
        self._per_user: dict[str, asyncio.Lock] = {}

    # --- life ---------------------------------------------------------------------------------

    async def start(self) -> None:
        self._session = aiohttp.ClientSession(
            connector=aiohttp.TCPConnector(limit=self._pool),
            timeout=aiohttp.ClientTimeout(total=self._timeout),
        )
        self._tokens = await self.store.tokens(self._configured)
        if self._tokens is None:
            raise TokenRefused("no refresh token: set LOA_ZALO_OA_REFRESH_TOKEN")
        try:
            await self._fresh_token()
        except (TokenRefused, Retryable, Ambiguous) as e:  # sends will say so; Telegram runs on
            log.error("zalo_oa: no working access token at start (%s)", e)

    async def stop(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    # --- tokens -------------------------------------------------------------------------------

    async def _fresh_token(self) -> str:
        """An access token good for a while: refreshed ahead of its expiry. A refresh that
        fails while the current token still works is logged, and the current token used."""
        tokens = self._tokens
        assert tokens is not None
        expires = tokens.access_expires_at
        if tokens.access_token and expires and expires - self._clock() > REFRESH_MARGIN:
            return tokens.access_token
        try:
            return await self.refresh(tokens.access_token)
        except (TokenRefused, Retryable):
            if tokens.access_token and expires and expires > self._clock():
                return tokens.access_token  # still good: keep sending, the operator is told
            raise

    async def refresh(self, stale: str | None) -> str:
        """Exchange the stored refresh token for a new pair, store it, then use it. `stale`:
        the access token the caller found wanting (another task may have replaced it)."""
        async with self._refreshing:
            current = self._tokens
            assert current is not None
            if current.access_token and current.access_token != stale:
                return current.access_token  # refreshed while we waited
            stored = await self.store.tokens(None)
            if stored and stored.refresh_token != current.refresh_token:
                self._tokens = stored  # another process refreshed: adopt its pair
                if stored.access_token and stored.access_token != stale:
                    return stored.access_token
                current = stored
            used = current.refresh_token
            await self.store.mark_refreshing(used)
            try:
                new = await self._exchange(used)
            except TokenRefused:
                again = await self._reauthorised(used)
                if again is None:
                    log.error(
                        "zalo_oa: the refresh token was refused; re-authorise the app and set "
                        "LOA_ZALO_OA_REFRESH_TOKEN (the current access token works until %s)",
                        current.access_expires_at,
                    )
                    raise
                new = again
            if not await self.store.save_refreshed(used, new):
                adopted = await self.store.tokens(None)
                assert adopted is not None
                new = adopted
            self._tokens = new  # only now, with the pair committed, is the new token used
            assert new.access_token is not None
            return new.access_token

    async def _reauthorised(self, refused: str) -> Tokens | None:
        """After the operator re-authorised the app and set LOA_ZALO_OA_REFRESH_TOKEN: the
        pair it gives (stored over the refused token by the caller), else None."""
        if not self._configured or self._configured == refused:
            return None
        try:
            return await self._exchange(self._configured)
        except TokenRefused:
            return None

    async def _exchange(self, refresh_token: str) -> Tokens:
        form = {
            "refresh_token": refresh_token,
            "app_id": self.app_id,
            "grant_type": "refresh_token",
        }
        body = await self._call(
            "POST",
            f"{self.oauth_url}/v4/oa/access_token",
            data=form,
            headers={"secret_key": self._secret_key},
        )
        access, refresh = body.get("access_token"), body.get("refresh_token")
        if not isinstance(access, str) or not isinstance(refresh, str):
            code = body.get("error")
            log.warning("zalo_oa: token refresh refused (error %s)", code)
            raise TokenRefused(f"refresh refused (error {code})")
        try:
            lifetime = int(body.get("expires_in", 90000))
        except (TypeError, ValueError):
            lifetime = 90000
        return Tokens(refresh, access, self._clock() + timedelta(seconds=lifetime))

    # --- HTTP ---------------------------------------------------------------------------------

    async def _call(self, method: str, url: str, **kwargs: Any) -> dict[str, Any]:
        """One request; its JSON body. Transport trouble becomes the contract's errors."""
        assert self._session is not None, "start() first"
        try:
            async with self._session.request(method, url, **kwargs) as resp:
                if resp.status == 429:
                    raise RateLimited(float(resp.headers.get("Retry-After", "1")), "HTTP 429")
                if resp.status >= 500:
                    raise Retryable(f"HTTP {resp.status}")
                try:
                    body = await resp.json(content_type=None)
                except ValueError:
                    raise Ambiguous(f"HTTP {resp.status}: not JSON") from None
        except aiohttp.ClientConnectorError as e:
            raise Retryable(f"not connected: {type(e).__name__}") from None
        except (TimeoutError, aiohttp.ClientError) as e:
            raise Ambiguous(f"no answer: {type(e).__name__}") from None
        if not isinstance(body, dict):
            raise Ambiguous("answer is not a JSON object")
        return body

    async def _api(self, method: str, path: str, **kwargs: Any) -> dict[str, Any]:
        """An Open API call with the access token; -216 refreshes and retries once."""
        try:
            token = await self._fresh_token()
        except TokenRefused as e:
            raise Retryable(str(e)) from None
        for attempt in (1, 2):
            headers = {"access_token": token}
            body = await self._call(method, f"{self.api_url}{path}", headers=headers, **kwargs)
            if body.get("error") != E_TOKEN or attempt == 2:
                return body
            try:
                token = await self.refresh(token)
            except TokenRefused as e:
                raise Retryable(str(e)) from None
        raise AssertionError("unreachable")

    # --- sending ------------------------------------------------------------------------------

    async def send(self, message: OutboundMessage) -> SendResult:
        # Nothing upstream renders per platform yet: the canonical HTML becomes plain text here.
        text = plain(message.text)
        if len(text) > CAPABILITIES.max_text_length:
            raise BadRequest(f"text is too long: over {CAPABILITIES.max_text_length} characters")
        payload: dict[str, Any] = {"text": text}
        if message.buttons and not message.chat_id.startswith(GROUP):
            payload["attachment"] = _buttons(message.buttons)
        if message.chat_id.startswith(GROUP):
            body = await self._api(
                "POST",
                "/v3.0/oa/group/message",
                json={"recipient": {"group_id": message.chat_id[len(GROUP) :]}, "message": payload},
            )
            return _sent(body)
        user = message.chat_id
        lock = self._per_user.setdefault(user, asyncio.Lock())
        async with lock:  # one follower's quota is counted one send at a time
            kind = await self._kind(user)
            body = await self._api(
                "POST",
                f"/v3.0/oa/message/{kind}",
                json={"recipient": {"user_id": user}, "message": payload},
            )
            if body.get("error") == E_WINDOW:
                await self.store.window_closed(user)  # next time: as promotion
                raise Retryable("outside the interaction window")
            result = _sent(body)
            if kind == "cs":
                await self.store.consulted(user)
            else:
                await self.store.promoted(user, self._clock())
            return result

    async def _kind(self, user: str) -> str:
        """ "cs" while the window is open, else "promotion" if the quota allows; Postponed."""
        now = self._clock()
        facts = await self.store.follower(user, month_start(now))
        last = facts.last_interaction_at
        open_window = last is not None and now - last <= CS_WINDOW
        if open_window and facts.cs_since_interaction < CS_PER_INTERACTION:
            return "cs"
        today = _local_day_start(now)
        if facts.last_promotion_at is not None and facts.last_promotion_at >= today:
            raise Postponed(today + timedelta(days=1), "promotion: one a day per follower")
        if facts.promotions_since >= self.monthly_quota:
            raise Postponed(next_month_start(now), "promotion: monthly quota per follower")
        return "promotion"

    async def edit_text(
        self, chat_id: str, message_id: str, text: str, buttons: tuple[Button, ...] = ()
    ) -> None:
        raise BadRequest("Zalo OA cannot edit a message")

    async def answer_button(self, callback_id: str, text: str | None = None) -> None:
        """A tap came as the follower's own message (`callback_id` is their id): the note
        goes back as a consultation message, the window being open."""
        if text:
            await self.send(OutboundMessage(chat_id=callback_id, text=text))

    async def member_count(self, chat_id: str) -> int:
        """A GMF group's total_member; a follower's chat is one person."""
        if not chat_id.startswith(GROUP):
            return 1
        body = await self._api(
            "GET", "/v3.0/oa/group/getgroup", params={"group_id": chat_id[len(GROUP) :]}
        )
        _check(body)
        info = (
            body.get("data", {}).get("group_info", {}) if isinstance(body.get("data"), dict) else {}
        )
        total = info.get("total_member") if isinstance(info, dict) else None
        if not isinstance(total, int):
            raise Ambiguous("getgroup answered without total_member")
        return total

    def start_link(self, payload: str) -> str | None:
        return None  # a follower types the invite code to the OA

    async def poll(self, timeout: float) -> list[dict[str, Any]]:
        raise NotImplementedError("Zalo OA delivers events by webhook only")

    async def set_webhook(self, url: str, secret: str) -> None:
        """Set in Zalo's developer console, not by API: nothing to do."""

    async def delete_webhook(self) -> None:
        """Set in Zalo's developer console, not by API: nothing to do."""

    # --- inbound ------------------------------------------------------------------------------

    async def note_contact(self, event: InboundEvent) -> None:
        """A follower wrote, tapped or followed: their window opens; unfollowed: noted."""
        if event.user is None or event.chat_type is not ChatType.PRIVATE:
            return
        if event.kind in (EventKind.MESSAGE, EventKind.BUTTON, EventKind.BOT_ADDED):
            await self.store.interacted(event.user.id, self._clock())
        elif event.kind is EventKind.BOT_REMOVED:
            await self.store.unfollowed(event.user.id)

    def update_key(self, raw: Mapping[str, Any]) -> str:
        """event_name + msg_id (or the message ids a receipt names; a follow: who and when)."""
        name = _str(raw.get("event_name"), "event_name")
        message = raw.get("message")
        if isinstance(message, Mapping) and isinstance(message.get("msg_id"), str):
            return f"{name}:{message['msg_id']}"[:128]
        if isinstance(message, Mapping) and isinstance(message.get("msg_ids"), list):
            ids = ",".join(str(i) for i in message["msg_ids"])
            return f"{name}:{_person(raw)}:{ids}"[:128]
        return f"{name}:{_person(raw)}:{_str(raw.get('timestamp'), 'timestamp')}"[:128]

    def parse_update(self, raw: Mapping[str, Any]) -> InboundEvent | None:
        self.update_key(raw)
        try:
            raw = clean_payload(raw)
        except ValueError as e:
            raise MalformedUpdate(str(e)) from None
        name = raw["event_name"]
        if name not in _EVENTS:
            return None  # images, stickers, group chatter: nothing loa reads yet
        user_id = _person(raw)
        if name in ("follow", "unfollow"):
            return _event(
                EventKind.BOT_ADDED if name == "follow" else EventKind.BOT_REMOVED, user_id
            )
        message = raw.get("message")
        if not isinstance(message, Mapping):
            raise MalformedUpdate("message is not an object")
        if name in ("user_received_message", "user_seen_message"):
            ids = message.get("msg_ids")
            if not isinstance(ids, list) or not all(isinstance(i, str) for i in ids):
                raise MalformedUpdate("message.msg_ids is not a list of strings")
            receipt = "seen" if name == "user_seen_message" else "received"
            return _event(EventKind.RECEIPT, user_id, receipt=receipt, message_ids=tuple(ids))
        text = _str(message.get("text"), "message.text").strip()
        msg_id = _str(message.get("msg_id"), "message.msg_id")
        if _BUTTON_DATA.fullmatch(text):  # an oa.query button's payload, as the follower's text
            # Which of our messages it was tapped on is not said: none is named.
            return _event(EventKind.BUTTON, user_id, button_data=text, callback_id=user_id)
        command, args = None, ""
        if match := _COMMAND.fullmatch(text):
            command, args = match[1].lower(), (match[2] or "").strip()
        return _event(
            EventKind.MESSAGE, user_id, text=text, command=command, args=args, message_id=msg_id
        )


def _event(kind: EventKind, user_id: str, **fields: Any) -> InboundEvent:
    """An event in a follower's private chat with the OA (Zalo sends no names)."""
    return InboundEvent(
        Platform.ZALO_OA,
        kind,
        chat_id=user_id,
        chat_type=ChatType.PRIVATE,
        user=PlatformUser(user_id, ""),
        **fields,
    )


def _buttons(buttons: tuple[Button, ...]) -> dict[str, Any]:
    return {
        "type": "template",
        "payload": {
            "template_type": "button",
            "buttons": [
                {"title": b.label[:100], "type": "oa.query.show", "payload": b.data}
                for b in buttons
            ],
        },
    }


def _check(body: Mapping[str, Any]) -> None:
    """Zalo's error code as the contract's typed error. Messages are Zalo's: no text of ours."""
    code = body.get("error")
    if code == 0:
        return
    detail = f"error {code}: {str(body.get('message', ''))[:200]}"
    if code == E_NOT_FOLLOWER:
        raise ChatGone(detail)
    if code == E_QUOTA:
        raise Postponed(_local_day_start(datetime.now(UTC)) + timedelta(days=1), detail)
    if code == E_TOKEN:
        raise Retryable(detail)
    if isinstance(code, int) and code < 0:
        raise BadRequest(detail)
    raise Ambiguous(f"unexpected answer: {detail}")


def _sent(body: Mapping[str, Any]) -> SendResult:
    _check(body)
    data = body.get("data")
    message_id = data.get("message_id") if isinstance(data, Mapping) else None
    if not isinstance(message_id, str) or not message_id:
        raise Ambiguous("the send answered without a message_id")
    return SendResult(message_id=message_id)


def _person(raw: Mapping[str, Any]) -> str:
    """The follower an event is about: the sender of a message, the recipient of a receipt,
    the follower of a follow."""
    name = raw.get("event_name")
    where = "follower" if name in ("follow", "unfollow") else "sender"
    if name in ("user_received_message", "user_seen_message"):
        where = "recipient"
    who = raw.get(where)
    if not isinstance(who, Mapping):
        raise MalformedUpdate(f"{where} is not an object")
    return _str(who.get("id"), f"{where}.id")


def _str(value: Any, where: str) -> str:
    if not isinstance(value, str) or not value:
        raise MalformedUpdate(f"{where} is not a string")
    return value
