"""A FakePlatform that reads updates as the TelegramAdapter does, for tests of what people send
(the fake's own parsing is deliberately lenient)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from bot.domain import InboundEvent
from bot.platforms.telegram import TelegramAdapter
from tests.handlers.fakes import FakePlatform


class ParsingPlatform(FakePlatform):
    """FakePlatform's sends, TelegramAdapter's update_key and parse_update."""

    def __init__(self) -> None:
        super().__init__()
        self._telegram = TelegramAdapter("1:token", "http://127.0.0.1:9")  # never started

    def update_key(self, raw: Mapping[str, Any]) -> str:
        return self._telegram.update_key(raw)

    def parse_update(self, raw: Mapping[str, Any]) -> InboundEvent | None:
        return self._telegram.parse_update(raw)
