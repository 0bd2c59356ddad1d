"""The Zalo OA adapter against the sandbox's OA: tokens, message kinds, groups, errors."""

from __future__ import annotations

from datetime import timedelta

import pytest

from bot.domain import Button, OutboundMessage
from bot.platforms.base import BadRequest, ChatGone, Postponed
from bot.platforms.zalo_oa import ZaloOaAdapter, month_start, next_month_start
from bot.sandbox import Sandbox, events
from bot.sandbox.state import User
from bot.storage.db import Database
from tests.zalo_oa.conftest import Clock, MakeAdapter, follower, oa_group


async def _writes(sb: Sandbox, adapter: ZaloOaAdapter, user: User, text: str) -> None:
    """The follower writes to the OA; loa hears of it (as the inbox would tell the adapter)."""
    events.user_writes(sb, sb.state.chats[user.id], user, text)
    event = adapter.parse_update(sb.zalo_oa.state.events[-1])
    assert event is not None and event.text == text
    await adapter.note_contact(event)


def _calls(sb: Sandbox, method: str) -> list[int]:
    """Zalo's answers to `method`, in order: 0 for success, else its error code."""
    return [
        int(e.params.get("error", 0))
        for e in sb.state.log
        if e.platform == "zalo_oa" and e.method == method
    ]


async def test_a_follower_who_never_wrote_gets_a_promotion_one_who_wrote_a_consultation(
    sandbox: Sandbox, make_adapter: MakeAdapter, db: Database
) -> None:
    adapter = make_adapter(db)
    await adapter.start()
    quiet, talker = follower(sandbox, "Lan"), follower(sandbox, "Minh")
    await _writes(sandbox, adapter, talker, "Cho tôi hỏi lịch họp")
    await adapter.send(OutboundMessage(str(quiet.id), "Họp phụ huynh"))
    await adapter.send(OutboundMessage(str(talker.id), "Họp phụ huynh"))
    assert _calls(sandbox, "message/promotion") == [0]
    assert _calls(sandbox, "message/cs") == [0]
    assert [m.text for m in sandbox.state.chats[quiet.id].messages.values()] == ["Họp phụ huynh"]


@pytest.mark.parametrize(
    ("label", "data"),
    [("Đã hiểu", "ack:7"), ("Trả lời", "q:12:a")],  # a one-letter prefix too: a question's
)
async def test_buttons_go_as_query_buttons_and_a_tap_comes_back_as_a_button_event(
    sandbox: Sandbox, make_adapter: MakeAdapter, db: Database, label: str, data: str
) -> None:
    adapter = make_adapter(db)
    await adapter.start()
    user = follower(sandbox)
    await adapter.send(OutboundMessage(str(user.id), "Tin", (Button(label, data),)))
    chat = sandbox.state.chats[user.id]
    (sent,) = chat.messages.values()
    assert sent.reply_markup == {"inline_keyboard": [[{"text": label, "callback_data": data}]]}
    events.press_button(sandbox, chat, user, sent.message_id, data)
    raw = sandbox.zalo_oa.state.events[-1]
    event = adapter.parse_update(raw)
    assert event is not None and event.kind.value == "button"
    assert (event.button_data, event.chat_id, event.callback_id) == (
        data,
        str(user.id),
        str(user.id),
    )


async def test_promotions_are_one_a_day_and_the_monthly_cap_per_follower(
    sandbox: Sandbox, make_adapter: MakeAdapter, db: Database
) -> None:
    clock = Clock()
    adapter = make_adapter(db, monthly_quota=2, clock=clock)
    await adapter.start()
    user = str(follower(sandbox).id)
    await adapter.send(OutboundMessage(user, "Tin 1"))
    with pytest.raises(Postponed) as today:
        await adapter.send(OutboundMessage(user, "Tin 2"))
    assert today.value.until - clock.now <= timedelta(days=1)
    await adapter.store.promoted(user, clock.now - timedelta(seconds=1))  # a second, this month
    clock.now += timedelta(days=1)
    if month_start(clock.now) == month_start(clock.now - timedelta(days=1)):
        with pytest.raises(Postponed) as month:
            await adapter.send(OutboundMessage(user, "Tin 3"))
        assert month.value.until == next_month_start(clock.now)
    assert _calls(sandbox, "message/promotion") == [0]  # nothing refused left loa


async def test_an_expired_access_token_is_refreshed_and_the_send_retried_once(
    sandbox: Sandbox, make_adapter: MakeAdapter, db: Database
) -> None:
    adapter = make_adapter(db)
    await adapter.start()
    user = str(follower(sandbox).id)
    sandbox.zalo_oa.expire_access_tokens()
    await adapter.send(OutboundMessage(user, "Tin"))
    assert _calls(sandbox, "message/promotion") == [-216, 0]  # refused, refreshed, sent once
    assert _calls(sandbox, "access_token") == [0, 0]  # at start, and after -216
    stored = await adapter.store.tokens(None)
    assert stored is not None and stored.refresh_token in sandbox.zalo_oa.state.refresh_tokens


async def test_a_gmf_group_counts_its_members_and_takes_group_messages(
    sandbox: Sandbox, make_adapter: MakeAdapter, db: Database
) -> None:
    adapter = make_adapter(db)
    await adapter.start()
    group = oa_group(sandbox, 5)
    assert await adapter.member_count(group) == 5
    await adapter.send(OutboundMessage(group, "Tin cho nhóm", (Button("Đã hiểu", "ack:1"),)))
    assert _calls(sandbox, "group/message") == [0]


async def test_too_long_and_not_a_follower_are_typed_errors(
    sandbox: Sandbox, make_adapter: MakeAdapter, db: Database
) -> None:
    adapter = make_adapter(db)
    await adapter.start()
    user = str(follower(sandbox).id)
    with pytest.raises(BadRequest):
        await adapter.send(OutboundMessage(user, "a" * 2001))
    sandbox.zalo_oa.unfollow(sandbox.state.users[int(user)])
    with pytest.raises(ChatGone):
        await adapter.send(OutboundMessage(user, "Tin"))
