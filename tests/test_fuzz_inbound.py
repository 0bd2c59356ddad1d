"""Fuzzing what reaches loa from outside: batches of webhook bodies — well-formed updates with
hostile strings in every field, the same update twice, garbage (not JSON, deep nesting, NaN, huge
or wrongly typed ids, wrong shapes) — through the real web app, the real Inbox and the real
Telegram parsing, on SQLite. Whatever arrives: no 500, no error logged, every well-formed update
handled exactly once, and what handlers see is clean text."""

from __future__ import annotations

import asyncio
import itertools
import json
import logging
import re
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlmodel import SQLModel, col, select

from bot.domain import EventKind, InboundEvent, Platform, Reply
from bot.inbox import Inbox
from bot.platforms.base import PlatformAdapter
from bot.platforms.telegram import TelegramAdapter
from bot.storage.db import Database
from bot.storage.models import InboxUpdate
from bot.text import clean_text
from bot.web import create_web_app

SECRET = "fuzz-secret"
HEADERS = {"X-Telegram-Bot-Api-Secret-Token": SECRET, "Content-Type": "application/json"}
URL = "/webhook/telegram"
UNCLEAN = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\ud800-\udfff]")

_fresh_ids = itertools.count(1)

hostile_char = st.one_of(
    st.characters(),
    st.sampled_from(["\x00", "\x01", "\x1b", "\r", "\x7f", "\x85", "\x9f", "\ud800", "\udfff"]),
    st.sampled_from(["\n", "\t", "😀", "\u202e", "\ufeff", "Đ", "ễ", "/", "@", " "]),
)
hostile = st.text(hostile_char, max_size=40)
json_leaf = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=False, allow_infinity=False),
    hostile,
)
any_json = st.recursive(
    json_leaf,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(hostile, inner, max_size=3),
    max_leaves=12,
)
bad_id = st.one_of(
    st.integers(min_value=2**63, max_value=10**200),
    st.integers(max_value=-1),
    st.floats(),
    st.booleans(),
    st.none(),
    hostile,
    st.lists(st.integers(), max_size=2),
)


def _user(names: list[str]) -> dict[str, Any]:
    first, last, username = names
    return {"id": 7, "is_bot": False, "first_name": first, "last_name": last, "username": username}


@st.composite
def well_formed(draw: st.DrawFn) -> tuple[str, dict[str, Any]]:
    """A valid message, button tap or poll answer whose every free text is hostile. Its id is
    fresh (ids are loa's deduplication key), so it must be handled once."""
    uid = next(_fresh_ids)
    user = _user([draw(hostile) for _ in range(3)])
    chat = {
        "id": -100,
        "type": draw(st.sampled_from(["group", "supergroup"])),
        "title": draw(hostile),
    }
    kind = draw(st.sampled_from(["message", "callback_query", "poll_answer"]))
    payload: dict[str, Any]
    if kind == "message":
        text = draw(st.one_of(hostile, hostile.map(lambda t: "/start" + t)))
        payload = {"message_id": uid, "date": 0, "chat": chat, "from": user, "text": text}
    elif kind == "callback_query":
        message = {"message_id": 1, "date": 0, "chat": chat}
        payload = {"id": str(uid), "from": user, "chat_instance": "1", "data": draw(hostile)}
        payload["message"] = message
    else:
        options = draw(st.lists(st.integers(0, 9), max_size=3))
        payload = {"poll_id": str(uid), "user": user, "option_ids": options}
    return str(uid), {"update_id": uid, kind: payload}


def _dumps(value: Any) -> bytes:
    return json.dumps(value).encode()  # lone surrogates leave as \ud800 escapes, valid JSON


@st.composite
def garbage(draw: st.DrawFn) -> bytes:
    """A body that is not an update loa can key: every one must be answered 400."""
    choice = draw(st.integers(0, 6))
    if choice == 0:
        return b"{{" + draw(st.binary(max_size=64))
    if choice == 1:
        return draw(st.sampled_from([b"[", b'{"a":'])) * draw(st.integers(900, 100_000))
    if choice == 2:
        return _dumps(draw(st.one_of(json_leaf, st.lists(any_json, max_size=3))))
    if choice == 3:
        return _dumps({"update_id": draw(bad_id), "message": draw(any_json)})
    if choice == 4:
        keys = hostile.filter(lambda k: clean_text(k) != "update_id")
        return _dumps(draw(st.dictionaries(keys, any_json, max_size=4)))
    if choice == 5:
        constant = draw(st.sampled_from(["NaN", "Infinity", "-Infinity", "1e999"]))
        where = draw(st.sampled_from(['{"update_id": %s}', '{"update_id": 1, "x": [%s]}']))
        return (where % constant).encode()
    depth = draw(st.integers(33, 500))  # past what any update nests, within Python's stack
    head = b'{"update_id": %d, "x": ' % next(_fresh_ids)
    return head + b"[" * depth + b"0" + b"]" * depth + b"}"


@st.composite
def odd_update(draw: st.DrawFn) -> bytes:
    """A valid, fresh key with any content: stored and answered 200, then handled or dropped."""
    kind = draw(st.sampled_from(["message", "callback_query", "poll_answer", "my_chat_member"]))
    return _dumps({"update_id": next(_fresh_ids), kind: draw(any_json)})


# how it arrives ("webhook", "polled" or "bad": the webhook must answer 400), the body, and the
# key of a well-formed update
Body = tuple[str, bytes, str | None]


@st.composite
def batch(draw: st.DrawFn) -> list[Body]:
    bodies: list[Body] = []
    for _ in range(draw(st.integers(1, 8))):
        pick = draw(st.integers(0, 3))
        route = draw(st.sampled_from(["webhook", "polled"]))
        if pick == 0 and bodies and bodies[-1][2] is not None:
            bodies.append((route, *bodies[-1][1:]))  # the platform sends the same update again
        elif pick <= 1:
            key, update = draw(well_formed())
            bodies.append((route, _dumps(update), key))
        elif pick == 2:
            bodies.append(("bad", draw(garbage()), None))
        else:
            bodies.append((route, draw(odd_update()), None))
    return bodies


class Recorder:
    """The router: records what each event identifies, and checks its text is clean."""

    def __init__(self) -> None:
        self.seen: list[str] = []

    async def dispatch(self, event: InboundEvent, adapter: PlatformAdapter) -> list[Reply]:
        texts = [event.text, event.chat_title, event.button_data, event.args, event.callback_id]
        texts += [event.user.name] if event.user else []
        assert not any(UNCLEAN.search(t) for t in texts if t), "unclean text reached a handler"
        ids = {
            EventKind.MESSAGE: event.message_id,
            EventKind.BUTTON: event.callback_id,
            EventKind.POLL_ANSWER: event.poll_id,
        }
        self.seen.append(str(ids.get(event.kind)))
        return []

    async def give_up(self, event: InboundEvent, adapter: PlatformAdapter) -> list[Reply]:
        raise AssertionError("a handler failed three times")


class Rig:
    def __init__(self, db: Database, client: TestClient[Any, Any], inbox: Inbox) -> None:
        self.db, self.client, self.inbox = db, client, inbox
        self.recorder: Recorder = inbox.router  # type: ignore[assignment]

    @classmethod
    async def start(cls, folder: Path) -> Rig:
        db = Database(f"sqlite+aiosqlite:///{folder / 'fuzz.db'}")
        async with db.engine.begin() as conn:
            await conn.run_sync(SQLModel.metadata.create_all)
        adapter = TelegramAdapter("1:fuzz", "http://127.0.0.1:9")  # parses; never sends
        inbox = Inbox(db, {Platform.TELEGRAM: adapter}, Recorder(), retry_delay=0)
        app = create_web_app(inbox=inbox, adapters=inbox.adapters, webhook_secret=SECRET)
        client: TestClient[Any, Any] = TestClient(TestServer(app))
        await client.start_server()
        return cls(db, client, inbox)

    async def stop(self) -> None:
        await self.client.close()
        await self.db.dispose()

    async def check(self, bodies: list[Body]) -> None:
        self.recorder.seen.clear()
        for route, body, _ in bodies:
            if route == "polled":  # as Inbox.poll_forever persists it: the adapter must clean it
                await self.inbox.accept(Platform.TELEGRAM, json.loads(body))
                continue
            response = await self.client.post(URL, data=body, headers=HEADERS)
            assert response.status == (400 if route == "bad" else 200), body[:200]
        while await self.inbox.process_pending():
            pass
        well_formed = {key for _, _, key in bodies if key is not None}
        handled = sorted(k for k in self.recorder.seen if k in well_formed)
        assert handled == sorted(well_formed), "an update was lost or handled twice"
        async with self.db.session() as session:
            waiting = select(InboxUpdate.key).where(col(InboxUpdate.handled_at).is_(None))
            assert (await session.exec(waiting)).all() == []
            keys = list(well_formed)
            failed = select(InboxUpdate.key).where(
                col(InboxUpdate.key).in_(keys), col(InboxUpdate.error).is_not(None)
            )
            assert (await session.exec(failed)).all() == []


def test_nothing_sent_to_the_webhook_breaks_loa(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING)
    loop = asyncio.new_event_loop()
    rig = loop.run_until_complete(Rig.start(tmp_path))
    try:

        @settings(
            max_examples=150,
            derandomize=True,
            deadline=None,
            database=None,
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
        )
        @given(batch())
        def run(bodies: list[Body]) -> None:
            loop.run_until_complete(rig.check(bodies))

        run()
    finally:
        loop.run_until_complete(rig.stop())
        loop.close()
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR], "an error was logged"
