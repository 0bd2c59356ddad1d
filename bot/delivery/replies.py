"""Replies: what handlers said, sent after the handler's work is committed."""

from __future__ import annotations

import logging
from collections.abc import Sequence

from bot.domain import ButtonAnswer, EditMessage, OutboundMessage, Reply
from bot.platforms.base import PlatformAdapter, SendError

log = logging.getLogger(__name__)


async def send_reply(adapter: PlatformAdapter, reply: Reply) -> None:
    """One reply, as the adapter's one API call. Raises the adapter's typed SendError."""
    match reply:
        case OutboundMessage():
            await adapter.send(reply)
        case EditMessage(chat_id, message_id, text, buttons):
            await adapter.edit_text(chat_id, message_id, text, buttons)
        case ButtonAnswer(callback_id, text):
            await adapter.answer_button(callback_id, text)


class ReplySender:
    """Sends replies in order; a failed one is logged and the rest still go."""

    async def send(self, adapter: PlatformAdapter, replies: Sequence[Reply]) -> None:
        for reply in replies:
            try:
                await send_reply(adapter, reply)
            except SendError as e:
                log.warning(
                    "a %s reply (%s) was not sent: %s",
                    adapter.platform, type(reply).__name__, type(e).__name__,
                )  # fmt: skip
