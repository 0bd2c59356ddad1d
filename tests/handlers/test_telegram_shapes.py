"""The real Telegram adapter's parsing in front of the handlers: the event shapes they rely on."""

from __future__ import annotations

from typing import Any

from bot.domain import InboundEvent
from bot.platforms import telegram
from bot.storage.db import Database
from tests.handlers.fakes import Harness, message, tap


class TelegramParsing(Harness):
    """The harness, parsing with the real (never started) TelegramAdapter."""

    def __init__(self, db: Database) -> None:
        super().__init__(db)
        real = telegram.TelegramAdapter("123456:" + "A" * 30, "http://127.0.0.1:9")

        def parse(raw: Any) -> InboundEvent | None:
            event: InboundEvent | None = real.parse_update(raw)
            return event

        self.platform.parse_update = parse  # type: ignore[method-assign]


async def test_commands_phrases_and_taps_through_the_real_parser(db: Database) -> None:
    bot = TelegramParsing(db)
    await bot.deliver(
        message("/START"),
        message("/huongdan@loa_bot"),
        message("Trợ giúp"),
        message("/khong_co"),
        message("/khong_co", chat_type="supergroup"),
        message("trợ giúp", chat_type="group"),
        tap("ack:999", update_id=31),
    )
    texts = bot.texts()
    assert texts[0].startswith("Xin chào Lan!")
    assert [t.startswith("<b>Hướng dẫn sử dụng</b>") for t in texts[1:3]] == [True, True]
    assert "/khong_co" in texts[3]
    assert len(texts) == 4
    assert bot.platform.answers[0][0] == "cb31"
    assert bot.platform.answers[0][1] is not None and "không tìm thấy" in bot.platform.answers[0][1]
