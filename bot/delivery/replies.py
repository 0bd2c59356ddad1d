"""Replies: what handlers said, sent after the handler's work is committed.

A reply is not stored and its handler never runs again for it, but it keeps a delivery's
manners: it leaves within the channel's limits, shared with broadcasts (the platform's pace and
each chat's own; a reply takes the next free departure slot, ahead of broadcast rows claimed but
not yet sent), waits out a 429's retry_after, sends again after a refusal (network, 5xx) a few
times with short backoff, and is never sent again when it may have arrived (a timeout).
A button answer is best effort and unpaced (it is not a message): a late one is useless.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import time
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass

from bot.delivery.limits import ChatLimiter, Pacer
from bot.domain import ButtonAnswer, EditMessage, OutboundMessage, Platform, Reply
from bot.platforms.base import ChatMigrated, PlatformAdapter, RateLimited, Retryable, SendError

log = logging.getLogger(__name__)

RETRY_DELAYS_S = (0.5, 1.0, 2.0)  # after each refusal; then the reply is given up
MAX_RATE_LIMITED = 5  # 429s one reply waits out before it is given up
BUTTON_ANSWER_WITHIN_S = 10.0  # the tapper's spinner stops on its own after ~15 s
SLOT_HORIZON_S = 3600.0  # a reply asks the pacer for a slot however far ahead it is


async def send_reply(adapter: PlatformAdapter, reply: Reply) -> None:
    """One reply, as the adapter's one API call. Raises the adapter's typed SendError."""
    match reply:
        case OutboundMessage():
            await adapter.send(reply)
        case EditMessage(chat_id, message_id, text, buttons):
            await adapter.edit_text(chat_id, message_id, text, buttons)
        case ButtonAnswer(callback_id, text):
            await adapter.answer_button(callback_id, text)


@dataclass(frozen=True, slots=True)
class ChannelLimiters:
    """One channel's limits, the same objects its broadcast sender obeys."""

    pacer: Pacer
    chats: ChatLimiter


class ReplySender:
    """Sends the replies of one handled event, in order, each to the end (sent or given up)."""

    def __init__(
        self,
        limits: Mapping[Platform, ChannelLimiters] | None = None,
        *,
        retry_delays: Sequence[float] = RETRY_DELAYS_S,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._limits = dict(limits or {})
        self._retry_delays = tuple(retry_delays)
        self._clock = clock

    async def send(
        self,
        adapter: PlatformAdapter,
        replies: Sequence[Reply],
        groups: Collection[str] = (),
        others: Mapping[Platform, PlatformAdapter] | None = None,
    ) -> None:
        """`groups`: the chats among the replies' that are groups (their per-chat limit is
        per minute, a private chat's per second). A message for a chat on another platform
        (`OutboundMessage.platform`) leaves through that platform's adapter, from `others`."""
        for reply in replies:
            to = reply.platform if isinstance(reply, OutboundMessage) else None
            if to is None or to == adapter.platform:
                await self._send(adapter, reply, groups)
            elif others is not None and to in others:
                await self._send(others[to], reply, ())  # paced as a private chat: one message
            else:
                log.warning("a reply for %s was not sent: that platform is not running", to)

    async def _send(self, adapter: PlatformAdapter, reply: Reply, groups: Collection[str]) -> None:
        limits = self._limits.get(adapter.platform)
        is_answer = isinstance(reply, ButtonAnswer)
        deadline = self._clock() + BUTTON_ANSWER_WITHIN_S if is_answer else None
        refused = rate_limited = 0
        migrated = False
        while True:
            try:
                if limits is not None and not isinstance(reply, ButtonAnswer):
                    await limits.chats.wait(reply.chat_id, reply.chat_id in groups)
                    await _next_slot(limits.pacer)
                await send_reply(adapter, reply)
                return
            except RateLimited as e:
                rate_limited += 1
                wait = e.retry_after
                if rate_limited > MAX_RATE_LIMITED or self._late(deadline, wait):
                    return _gave_up(adapter, reply, e)
                if limits is not None and not is_answer:
                    limits.pacer.pause(wait)  # the pacer holds every send of the channel
                else:
                    await asyncio.sleep(wait)
            except ChatMigrated as e:
                if migrated or not isinstance(reply, OutboundMessage):
                    return _gave_up(adapter, reply, e)
                migrated, reply = True, dataclasses.replace(reply, chat_id=e.new_chat_id)
            except Retryable as e:
                if refused >= len(self._retry_delays):
                    return _gave_up(adapter, reply, e)
                wait = self._retry_delays[refused]
                refused += 1
                if self._late(deadline, wait):
                    return _gave_up(adapter, reply, e)
                await asyncio.sleep(wait)
            except SendError as e:  # Ambiguous (it may have arrived), ChatGone, BadRequest
                return _gave_up(adapter, reply, e)

    def _late(self, deadline: float | None, wait: float) -> bool:
        return deadline is not None and self._clock() + wait > deadline


async def _next_slot(pacer: Pacer) -> None:
    """The next free departure slot: promised at once (so that broadcast claims count it),
    then taken, unless a 429 pause holds the channel."""
    while True:
        promised, wait = pacer.promise(1, SLOT_HORIZON_S)
        if promised:
            await pacer.acquire()
            return
        await asyncio.sleep(wait)


def _gave_up(adapter: PlatformAdapter, reply: Reply, error: SendError) -> None:
    log.warning(
        "a %s reply (%s) was not sent: %s", adapter.platform, type(reply).__name__,
        type(error).__name__,
    )  # fmt: skip
