"""/webhook/zalo-oa: the signature is checked before anything is kept; a broadcast to
followers and a group is acknowledged and seen, and reach counts it."""

from __future__ import annotations

import asyncio
import json
from datetime import timedelta

import aiohttp
import pytest
from sqlalchemy import func, select

from bot.domain import Button
from bot.reports.period import Period
from bot.sandbox import Sandbox, events
from bot.sandbox.zalo_oa_api import APP_ID, OA_ID, WEBHOOK_SECRET, signature
from bot.services.broadcasts import Broadcast, enqueue
from bot.services.reach import Filter, reach
from bot.storage.db import Database
from bot.storage.models import InboxUpdate, table_of, utcnow
from bot.web.webhooks import ZaloOaSignature
from tests.zalo_oa.conftest import MakeAdapter, follower, oa_group
from tests.zalo_oa.world import TEMPLATES, running_loa

EVENT = {
    "app_id": APP_ID,
    "event_name": "user_send_text",
    "timestamp": "1764540000000",
    "sender": {"id": "100000001"},
    "recipient": {"id": str(OA_ID)},
    "message": {"msg_id": "abc123", "text": "/toi"},
}


async def _stored(db: Database) -> int:
    async with db.reading() as conn:
        n = await conn.execute(select(func.count()).select_from(table_of(InboxUpdate)))
        return int(n.scalar_one())


@pytest.mark.parametrize(
    ("headers", "status"),
    [
        ({}, 403),
        ({"X-ZEvent-Signature": "mac=" + "0" * 64}, 403),
        ({"X-ZEvent-Signature": signature(APP_ID, b"{}", "1", WEBHOOK_SECRET)}, 403),
        ({"X-ZEvent-Signature": "wrong-secret"}, 403),
        ("oa_id", 403),  # signed with the OA id where loa expects the app id
        ("wrong_secret", 403),
        ("good", 200),
    ],
)
async def test_a_wrong_signature_is_refused_and_nothing_is_stored(
    sandbox: Sandbox,
    make_adapter: MakeAdapter,
    any_db: Database,
    headers: dict[str, str] | str,
    status: int,
) -> None:
    body = json.dumps(EVENT).encode()
    if isinstance(headers, str):
        key_id = str(OA_ID) if headers == "oa_id" else APP_ID
        secret = "not-the-secret" if headers == "wrong_secret" else WEBHOOK_SECRET
        headers = {"X-ZEvent-Signature": signature(key_id, body, str(EVENT["timestamp"]), secret)}
    async with (
        running_loa(any_db, sandbox, make_adapter(any_db)) as loa,
        aiohttp.ClientSession() as http,
        http.post(f"{loa.url}/webhook/zalo-oa", data=body, headers=headers) as resp,
    ):
        assert resp.status == status
    assert await _stored(any_db) == (1 if status == 200 else 0)


async def test_a_broadcast_is_acknowledged_seen_and_counted_in_reach(
    sandbox: Sandbox, make_adapter: MakeAdapter, any_db: Database
) -> None:
    parents = [follower(sandbox, f"Phụ huynh {i}") for i in range(3)]
    group = oa_group(sandbox, 4)
    async with running_loa(any_db, sandbox, make_adapter(any_db)) as loa:
        chats = await loa.register([str(p.id) for p in parents] + [group])
        item = Broadcast(
            key="oa:e2e",
            title="Họp phụ huynh",
            text="<b>Họp phụ huynh</b> lúc 8 giờ Chủ nhật.",
            buttons=(Button("Đã hiểu", "ack:{occurrence}"),),
        )
        occurrence = await enqueue(any_db, item, chats)
        assert (await loa.send_all()).get("sent") == 4
        first = parents[0]
        chat = sandbox.state.chats[first.id]
        (post,) = chat.messages.values()
        assert post.text == "Họp phụ huynh lúc 8 giờ Chủ nhật."  # plain text on Zalo
        events.press_button(sandbox, chat, first, post.message_id, f"ack:{occurrence}")
        for parent in parents[:2]:
            sandbox.zalo_oa.seen(parent.id, sandbox.zalo_oa.msg_ids_of(parent.id))
        assert await loa.feedback("ack", 1) == 1
        assert await loa.feedback("seen", 2) == 2
        assert await loa.feedback("received", 3) == 3
        thanks = TEMPLATES.render_plain("ack_thanks", name="")
        async with asyncio.timeout(5):
            while len(chat.messages) < 3:  # the post, the tap's payload, the thanks
                await asyncio.sleep(0.05)
        assert (list(chat.messages.values())[-1].text or "").split()[:2] == thanks.split()[:2]
    now = utcnow()
    period = Period(
        "now", now.date(), now.date(), now - timedelta(hours=1), now + timedelta(hours=1)
    )
    async with any_db.reading() as conn:
        total = (await reach(conn, Filter(period))).total()
    assert (total.sent_chats, total.audience) == (4, 3 + 4)
    assert (total.acknowledged, total.engaged, total.received, total.seen) == (1, 1, 3, 2)


async def test_an_event_sent_twice_is_kept_once(
    sandbox: Sandbox, make_adapter: MakeAdapter, db: Database
) -> None:
    body = json.dumps(EVENT).encode()
    headers = {"X-ZEvent-Signature": signature(APP_ID, body, "1764540000000", WEBHOOK_SECRET)}
    async with running_loa(db, sandbox, make_adapter(db)) as loa, aiohttp.ClientSession() as http:
        for _ in range(2):
            async with http.post(f"{loa.url}/webhook/zalo-oa", data=body, headers=headers) as r:
                assert r.status == 200
    assert await _stored(db) == 1


def test_an_oa_signing_with_its_oa_id_is_verified_when_so_configured() -> None:
    body = json.dumps(EVENT).encode()
    headers = {"X-ZEvent-Signature": signature(str(OA_ID), body, "1764540000000", "k")}
    assert ZaloOaSignature(str(OA_ID), "k").body_ok(headers, body)
    assert not ZaloOaSignature(APP_ID, "k").body_ok(headers, body)
    assert not ZaloOaSignature(str(OA_ID), "k").body_ok(headers, body.replace(b"/toi", b"/huy"))
