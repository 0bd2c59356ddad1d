"""A real PTB Application (long polling, handlers) talking to the sandbox end to end."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.ext import Application, CallbackQueryHandler, CommandHandler, ContextTypes

from .conftest import TOKEN, Control


async def start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    assert update.effective_chat is not None
    markup = InlineKeyboardMarkup([[InlineKeyboardButton("Đồng ý", callback_data="yes")]])
    await context.bot.send_message(update.effective_chat.id, "Chào bạn!", reply_markup=markup)


async def pressed(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    query = update.callback_query
    assert query is not None and query.message is not None
    await query.answer("OK")
    await query.edit_message_text(f"Đã chọn: {query.data}")


async def wait_for(
    predicate: Callable[[list[dict[str, Any]]], bool], ctl: Control, chat: int
) -> list[dict[str, Any]]:
    msgs: list[dict[str, Any]] = []
    for _ in range(100):
        msgs = await ctl.messages(chat)
        if predicate(msgs):
            return msgs
        await asyncio.sleep(0.05)
    raise AssertionError(f"condition not met; messages: {msgs}")


async def test_polling_application_round_trip(
    url: str, ctl: Control, world: dict[str, int]
) -> None:
    app = Application.builder().token(TOKEN).base_url(f"{url}/bot").build()
    app.add_handler(CommandHandler("start", start))
    app.add_handler(CallbackQueryHandler(pressed))
    group = world["group"]
    async with app:
        await app.start()
        assert app.updater is not None
        await app.updater.start_polling(poll_interval=0, timeout=1)
        try:
            await ctl.post(f"chats/{group}/messages", {"user_id": world["an"], "text": "/start"})
            msgs = await wait_for(lambda m: len(m) == 2, ctl, group)
            reply = msgs[1]
            assert reply["text"] == "Chào bạn!" and reply["sender"]["is_bot"]
            pressed_ = await ctl.post(
                f"chats/{group}/press",
                {"user_id": world["binh"], "message_id": reply["message_id"],
                 "callback_data": "yes"},
            )  # fmt: skip
            await wait_for(lambda m: m[1]["text"] == "Đã chọn: yes", ctl, group)
            answer = await ctl.get(f"callbacks/{pressed_['callback_query_id']}")
            assert answer["answer"]["text"] == "OK"
        finally:
            await app.updater.stop()
            await app.stop()
    methods = {e["method"] for e in await ctl.get("log")}
    assert {"deleteWebhook", "getUpdates", "sendMessage", "answerCallbackQuery"} <= methods
