"""Updates produced by people acting in the sandbox (via the control API)."""

from __future__ import annotations

from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup

from .conftest import BOT_ID, Control


async def test_my_chat_member_on_add_and_remove(bot: Bot, ctl: Control) -> None:
    an = await ctl.user("An")
    chi = await ctl.user("Chi")
    group = await ctl.group("Tổ 3", [an, chi])
    await ctl.post(f"chats/{group}/members", {"user_id": BOT_ID, "by_user_id": chi})
    await ctl.ok("DELETE", f"chats/{group}/members/{BOT_ID}")
    [added, removed] = await bot.get_updates()
    assert added.my_chat_member is not None and removed.my_chat_member is not None
    a, r = added.my_chat_member, removed.my_chat_member
    assert a.chat.id == group and a.from_user.id == chi
    assert (a.old_chat_member.status, a.new_chat_member.status) == ("left", "member")
    assert a.new_chat_member.user.id == BOT_ID
    assert r.from_user.id == an  # no by_user_id: the first human member
    assert (r.old_chat_member.status, r.new_chat_member.status) == ("member", "kicked")
    # "left" instead of "kicked", then sends say "not a member"
    await ctl.post(f"chats/{group}/members", {"user_id": BOT_ID})
    await ctl.ok("DELETE", f"chats/{group}/members/{BOT_ID}?status=left")
    updates = await bot.get_updates(offset=removed.update_id + 1)
    statuses = [
        (u.my_chat_member.old_chat_member.status, u.my_chat_member.new_chat_member.status)
        for u in updates
        if u.my_chat_member
    ]
    assert statuses == [("kicked", "member"), ("member", "left")]


async def test_private_block_and_unblock(bot: Bot, ctl: Control) -> None:
    uid = await ctl.user("Dũng")
    await ctl.post("chats", {"type": "private", "user_id": uid})
    await ctl.post(f"chats/{uid}/members", {"user_id": BOT_ID})  # first start: no update
    await ctl.post(f"chats/{uid}/messages", {"user_id": uid, "text": "/start"})
    await ctl.ok("DELETE", f"chats/{uid}/members/{BOT_ID}")
    await ctl.post(f"chats/{uid}/members", {"user_id": BOT_ID})
    updates = await bot.get_updates()
    assert updates[0].message is not None and updates[0].message.text == "/start"
    assert updates[0].message.chat.type == "private"
    kinds = [
        (u.my_chat_member.new_chat_member.status, u.my_chat_member.from_user.id)
        for u in updates[1:]
        if u.my_chat_member
    ]
    assert kinds == [("kicked", uid), ("member", uid)]


async def test_group_member_messages_reach_only_member_bots(
    url: str, ctl: Control, world: dict[str, int]
) -> None:
    other_token = "555:abcdefghijklmnop"
    async with Bot(other_token, base_url=f"{url}/bot") as other:
        await ctl.post(f"chats/{world['group']}/messages", {"user_id": world["an"], "text": "hi"})
        assert await other.get_updates() == ()


async def test_press_button_gives_callback_query(
    bot: Bot, ctl: Control, world: dict[str, int]
) -> None:
    markup = InlineKeyboardMarkup([[InlineKeyboardButton("Đã đọc", callback_data="ack:7")]])
    msg = await bot.send_message(world["group"], "Thông báo", reply_markup=markup)
    pressed = await ctl.post(
        f"chats/{world['group']}/press",
        {"user_id": world["binh"], "message_id": msg.message_id, "callback_data": "ack:7"},
    )
    [update] = await bot.get_updates()
    query = update.callback_query
    assert query is not None
    assert query.id == pressed["callback_query_id"]
    assert query.data == "ack:7" and query.from_user.id == world["binh"]
    assert query.message is not None and query.message.message_id == msg.message_id
    assert query.chat_instance
    assert await query.answer("Cảm ơn!")
    answered = await ctl.get(f"callbacks/{query.id}")
    assert answered["answered"] and answered["answer"]["text"] == "Cảm ơn!"

    status, error = await ctl.call(
        "POST",
        f"chats/{world['group']}/press",
        {"user_id": world["binh"], "message_id": msg.message_id, "callback_data": "nope"},
    )
    assert status == 400 and "callback_data" in error["error"]


async def test_poll_answer_and_poll_updates(bot: Bot, ctl: Control, world: dict[str, int]) -> None:
    msg = await bot.send_poll(world["group"], "Đi dã ngoại?", ["Có", "Không"], is_anonymous=False)
    assert msg.poll is not None
    view = await ctl.post(
        f"polls/{msg.poll.id}/answer", {"user_id": world["an"], "option_ids": [0]}
    )
    assert view["options"][0]["voter_count"] == 1 and view["votes"] == {str(world["an"]): [0]}
    [answer, poll] = await bot.get_updates()
    assert answer.poll_answer is not None
    assert answer.poll_answer.poll_id == msg.poll.id
    assert answer.poll_answer.option_ids == (0,)
    assert answer.poll_answer.user is not None and answer.poll_answer.user.id == world["an"]
    assert poll.poll is not None and poll.poll.total_voter_count == 1
    status, error = await ctl.call(
        "POST", f"polls/{msg.poll.id}/answer", {"user_id": world["an"], "option_ids": [0, 1]}
    )
    assert status == 400 and "only one answer" in error["error"]


async def test_anonymous_poll_sends_no_poll_answer(
    bot: Bot, ctl: Control, world: dict[str, int]
) -> None:
    msg = await bot.send_poll(world["group"], "Ẩn danh?", ["A", "B"])
    assert msg.poll is not None
    await ctl.post(f"polls/{msg.poll.id}/answer", {"user_id": world["an"], "option_ids": [1]})
    updates = await bot.get_updates()
    assert [bool(u.poll) for u in updates] == [True]


async def test_migrate_flow(bot: Bot, ctl: Control, world: dict[str, int]) -> None:
    old = world["group"]
    new = (await ctl.post(f"chats/{old}/migrate"))["new_id"]
    [to, frm] = await bot.get_updates()
    assert to.message is not None and frm.message is not None
    assert to.message.chat.id == old and to.message.migrate_to_chat_id == new
    assert frm.message.chat.id == new and frm.message.migrate_from_chat_id == old
    assert frm.message.chat.type == "supergroup"
    chats = {c["id"]: c for c in await ctl.get("chats")}
    assert chats[old]["migrated_to"] == new and chats[new]["migrated_from"] == old
    assert chats[new]["members_count"] == chats[old]["members_count"]
    status, _ = await ctl.call(
        "POST", f"chats/{old}/messages", {"user_id": world["an"], "text": "x"}
    )
    assert status == 409
