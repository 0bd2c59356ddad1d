"""bot.sandbox.client.SandboxClient against a live sandbox."""

from __future__ import annotations

import time

import pytest
from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup

from bot.sandbox.client import SandboxClient, SandboxError

from .conftest import BOT_ID, TOKEN


async def test_client_round_trip(url: str) -> None:
    async with SandboxClient(url) as sb:
        await sb.reset()
        await sb.limits(global_per_s=0, group_per_min=0, private_per_s=0)
        an = await sb.create_user("Phạm An")
        group = await sb.create_chat("Nhóm", members=[an])
        await sb.add_member(group, BOT_ID, by_user_id=an)
        private = await sb.create_chat("", type="private", user_id=an, members=[BOT_ID])
        assert private == an
        since = time.time()
        async with Bot(TOKEN, base_url=f"{url}/bot") as bot:
            markup = InlineKeyboardMarkup([[InlineKeyboardButton("OK", callback_data="ok")]])
            msg = await bot.send_message(group, "Xin chào", reply_markup=markup)
            poll = await bot.send_poll(group, "Q", ["a", "b"], is_anonymous=False)
            assert poll.poll is not None
            await sb.write(group, an, "chào bot")
            query_id = await sb.press(group, an, msg.message_id, "ok")
            await sb.answer_poll(poll.poll.id, an, [1])
            kinds = [u.to_dict().keys() - {"update_id"} for u in await bot.get_updates()]
            assert [next(iter(k)) for k in kinds] == [
                "my_chat_member", "message", "callback_query", "poll_answer", "poll"
            ]  # fmt: skip
            assert query_id
        assert [m["text"] for m in await sb.messages(group)][:2] == ["Xin chào", None]
        calls = await sb.log("sendMessage", since=since)
        assert [c["chat_id"] for c in calls] == [group]
        await sb.fault(method="sendMessage", status=500, count=1)
        await sb.clear_faults()
        new_id = await sb.migrate(group)
        assert any(c["id"] == new_id for c in await sb.chats())
        await sb.remove_member(new_id, BOT_ID)
        with pytest.raises(SandboxError):
            await sb.write(-1, an, "x")


async def test_fractional_rates_still_limit(url: str) -> None:
    async with SandboxClient(url) as sb:
        await sb.limits(global_per_s=0.4)
        assert (await sb.call("GET", "limits"))["global_per_s"] == 1
