"""Single-use refresh tokens: the new pair is stored before it is used, and a crash between
Zalo's answer and the commit does not lock the ward out (DESIGN: store before use)."""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

import pytest

from bot.domain import OutboundMessage
from bot.platforms.zalo_oa import ZaloOaAdapter
from bot.sandbox import Sandbox
from bot.services.zalo_oa_store import Tokens
from bot.storage.db import Database
from tests.zalo_oa.conftest import Clock, MakeAdapter, follower


class Crash(BaseException):
    """The process dies here (not an Exception: nothing may catch it on the way out)."""


def _crash_before_storing(adapter: ZaloOaAdapter) -> None:
    async def crash(used: str, new: Tokens) -> bool:
        raise Crash

    adapter.store.save_refreshed = crash  # type: ignore[method-assign]


def _crash_after_storing(adapter: ZaloOaAdapter) -> None:
    save = adapter.store.save_refreshed

    async def stored_then_crash(used: str, new: Tokens) -> Any:
        await save(used, new)
        raise Crash

    adapter.store.save_refreshed = stored_then_crash  # type: ignore[method-assign]


async def _due_for_refresh(sb: Sandbox, make: MakeAdapter, db: Database) -> tuple[Clock, str]:
    """A first process got its tokens; 14 hours later its access token is due for a refresh."""
    clock = Clock()
    first = make(db, clock=clock)
    await first.start()
    await first.stop()
    clock.now += timedelta(hours=14)  # 11 of the access token's 25 hours are left
    return clock, str(follower(sb).id)


async def test_a_crash_between_zalos_answer_and_the_commit_does_not_lock_the_ward_out(
    sandbox: Sandbox, make_adapter: MakeAdapter, any_db: Database, caplog: Any
) -> None:
    clock, user = await _due_for_refresh(sandbox, make_adapter, any_db)
    crashing = make_adapter(any_db, clock=clock)
    _crash_before_storing(crashing)
    with pytest.raises(Crash):
        await crashing.start()  # refreshes (11 h left < 12 h margin): the answer is lost
    # Zalo has consumed the stored refresh token. After the restart, loa still sends with the
    # access token it had, and tells the operator to re-authorise well before that expires.
    restarted = make_adapter(any_db, clock=clock)
    with caplog.at_level(logging.ERROR, logger="bot.platforms.zalo_oa"):
        await restarted.start()
        await restarted.send(OutboundMessage(user, "Họp phụ huynh tối nay"))
    assert "re-authorise" in caplog.text
    assert [m.text for m in sandbox.state.chats[int(user)].messages.values()] == [
        "Họp phụ huynh tối nay"
    ]
    # The operator re-authorises and sets the new refresh token: refreshing works again.
    fresh = sandbox.zalo_oa.issue_refresh_token()
    again = make_adapter(any_db, clock=clock, refresh_token=fresh)
    await again.start()
    stored = await again.store.tokens(None)
    assert stored is not None and stored.refresh_token in sandbox.zalo_oa.state.refresh_tokens
    assert stored.access_expires_at is not None
    assert stored.access_expires_at - clock.now > timedelta(hours=24)


async def test_a_crash_after_the_commit_leaves_the_new_pair_for_the_next_start(
    sandbox: Sandbox, make_adapter: MakeAdapter, any_db: Database, caplog: Any
) -> None:
    clock, user = await _due_for_refresh(sandbox, make_adapter, any_db)
    crashing = make_adapter(any_db, clock=clock)
    _crash_after_storing(crashing)
    with pytest.raises(Crash):
        await crashing.start()
    restarted = make_adapter(any_db, clock=clock)
    with caplog.at_level(logging.ERROR, logger="bot.platforms.zalo_oa"):
        await restarted.start()
        await restarted.send(OutboundMessage(user, "Tin"))
    assert "re-authorise" not in caplog.text
    stored = await restarted.store.tokens(None)
    assert stored is not None and stored.refresh_token in sandbox.zalo_oa.state.refresh_tokens
