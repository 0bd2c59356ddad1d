"""Flood limits (sliding windows) and injected faults."""

from __future__ import annotations

import asyncio
import datetime as dtm
import time
import warnings
from typing import Any

import pytest
from telegram import Bot
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter, TimedOut

from .conftest import BOT_ID, Control

# PTB warns that RetryAfter.retry_after will become a timedelta; irrelevant here.
pytestmark = pytest.mark.filterwarnings("ignore::telegram.warnings.PTBDeprecationWarning")


def retry_seconds(exc: RetryAfter) -> float:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        value: Any = exc.retry_after
    return value.total_seconds() if isinstance(value, dtm.timedelta) else float(value)


async def private_chat(ctl: Control, name: str) -> int:
    uid = await ctl.user(name)
    await ctl.post("chats", {"type": "private", "user_id": uid, "members": [BOT_ID]})
    return uid


async def sends(ctl: Control, chat: int, n: int) -> list[int]:
    statuses = []
    for i in range(n):
        status, _ = await ctl.tg("sendMessage", chat_id=chat, text=f"m{i}")
        statuses.append(status)
    return statuses


# --- limits -----------------------------------------------------------------------------------


async def test_limits_are_off_by_default(ctl: Control, world: dict[str, int]) -> None:
    assert await ctl.get("limits") == {
        "global_per_s": None, "group_per_min": None, "private_per_s": None
    }  # fmt: skip
    assert set(await sends(ctl, world["group"], 50)) == {200}


async def test_private_per_s(bot: Bot, ctl: Control) -> None:
    chat = await private_chat(ctl, "Em")
    await ctl.post("limits", {"private_per_s": 1})
    assert await bot.send_message(chat, "một")
    with pytest.raises(RetryAfter) as info:
        await bot.send_message(chat, "hai")
    assert retry_seconds(info.value) == 1
    status, body = await ctl.tg("sendMessage", chat_id=chat, text="ba")
    assert (status, body) == (
        429,
        {"ok": False, "error_code": 429, "description": "Too Many Requests: retry after 1",
         "parameters": {"retry_after": 1}},
    )  # fmt: skip
    other = await private_chat(ctl, "Chị")
    assert await bot.send_message(other, "khác")  # the window is per chat
    assert [m["text"] for m in await ctl.messages(chat)] == ["một"]  # 429s were not performed


async def test_rejected_calls_do_not_count(ctl: Control, world: dict[str, int]) -> None:
    await ctl.post("limits", {"global_per_s": 2})
    t0 = time.monotonic()
    assert await sends(ctl, world["group"], 2) == [200, 200]
    await asyncio.sleep(0.5)
    assert set(await sends(ctl, world["group"], 10)) == {429}
    await asyncio.sleep(max(0.0, t0 + 1.1 - time.monotonic()))
    # The first two left the window; had the 429s counted, these would be refused too.
    assert await sends(ctl, world["group"], 3) == [200, 200, 429]


async def test_group_per_min(ctl: Control, world: dict[str, int]) -> None:
    await ctl.post("limits", {"group_per_min": 3, "global_per_s": 0})
    assert await sends(ctl, world["group"], 3) == [200, 200, 200]
    status, body = await ctl.tg("sendMessage", chat_id=world["group"], text="x")
    assert status == 429 and 58 <= body["parameters"]["retry_after"] <= 60
    other = await ctl.group("Khác", [world["an"], BOT_ID])
    assert await sends(ctl, other, 1) == [200]
    await ctl.post("limits", {"group_per_min": None})
    assert await sends(ctl, world["group"], 1) == [200]


# --- faults -----------------------------------------------------------------------------------


async def test_fault_429(bot: Bot, ctl: Control, world: dict[str, int]) -> None:
    await ctl.post("faults", {"method": "sendMessage", "status": 429, "retry_after": 7})
    with pytest.raises(RetryAfter) as info:
        await bot.send_message(world["group"], "x")
    assert retry_seconds(info.value) == 7
    assert await ctl.messages(world["group"]) == []
    assert await bot.get_chat(world["group"])  # other methods unaffected
    await ctl.ok("DELETE", "faults")
    assert await bot.send_message(world["group"], "x")


@pytest.mark.parametrize(
    ("status", "error", "text"),
    [(500, NetworkError, "Internal Server Error"), (403, Forbidden, "Forbidden"),
     (400, BadRequest, "(?i)sandbox injected fault")],
)  # fmt: skip
async def test_fault_statuses(
    bot: Bot, ctl: Control, world: dict[str, int], status: int, error: type[Exception], text: str
) -> None:
    await ctl.post("faults", {"status": status, "chat_id": world["group"]})
    with pytest.raises(error, match=text):
        await bot.send_message(world["group"], "x")
    assert await ctl.messages(world["group"]) == []
    other = await ctl.group("Không lỗi", [world["an"], BOT_ID])
    assert await bot.send_message(other, "ok")  # chat filter


async def test_fault_timeout_performs_then_stalls(
    bot: Bot, ctl: Control, world: dict[str, int]
) -> None:
    await ctl.post("faults", {"status": "timeout", "count": 1})
    started = time.monotonic()
    with pytest.raises(TimedOut):
        await bot.send_message(world["group"], "đã gửi", read_timeout=0.5)
    assert time.monotonic() - started < 2.5
    assert [m["text"] for m in await ctl.messages(world["group"])] == ["đã gửi"]
    [entry] = [e for e in await ctl.get("log?method=sendMessage")]
    assert entry["status"] == 200 and entry["fault"] == "timeout"
    assert await bot.send_message(world["group"], "sau")  # count=1: spent


async def test_fault_drop_does_not_perform(bot: Bot, ctl: Control, world: dict[str, int]) -> None:
    await ctl.post("faults", {"status": "drop", "count": 1})
    with pytest.raises(NetworkError):
        await bot.send_message(world["group"], "mất")
    assert await ctl.messages(world["group"]) == []
    assert await bot.send_message(world["group"], "sau")


async def test_fault_count_and_probability_are_reproducible(
    ctl: Control, world: dict[str, int]
) -> None:
    await ctl.post("faults", {"status": 500, "count": 2})
    assert await sends(ctl, world["group"], 4) == [500, 500, 200, 200]
    [fault] = await ctl.get("faults")
    assert fault["fired"] == 2

    async def pattern() -> list[int]:
        await ctl.ok("DELETE", "faults")
        await ctl.post("faults", {"status": 500, "probability": 0.5, "seed": 42})
        return await sends(ctl, world["group"], 30)

    first, second = await pattern(), await pattern()
    assert first == second
    assert 5 < first.count(500) < 25


async def test_fault_validation(ctl: Control) -> None:
    status, body = await ctl.call("POST", "faults", {"status": 302})
    assert status == 400 and "status" in body["error"]
    status, body = await ctl.call("POST", "faults", {"status": 500, "probability": 2})
    assert status == 400 and "probability" in body["error"]
