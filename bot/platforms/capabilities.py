"""What each platform can show, in one place: adapters declare these, checks measure by them."""

from __future__ import annotations

from dataclasses import replace
from typing import Final

from bot.domain import Platform
from bot.platforms.base import Capabilities, LengthUnit, Markup

# Zalo Bot API: plain text up to 2000 characters, no inline buttons (numbered replies); a photo
# comes as a URL on Zalo's servers, no file id: loa cannot keep it as evidence.
_ZALO_BOT: Final = Capabilities(
    inline_buttons=False,
    polls=False,
    edit=False,
    groups=True,
    member_count=False,
    markup=Markup.PLAIN,
    max_text_length=2000,
    length_unit=LengthUnit.CHARACTER,
)

CAPABILITIES: Final[dict[Platform, Capabilities]] = {
    # Bot API: 4096 UTF-16 units of the text without its tags; callback_data 1-64 bytes.
    Platform.TELEGRAM: Capabilities(
        inline_buttons=True,
        polls=True,
        edit=True,
        groups=True,
        member_count=True,
        markup=Markup.TELEGRAM_HTML,
        max_text_length=4096,
        length_unit=LengthUnit.UTF16,
        max_button_label=64,
        max_callback_bytes=64,
        keeps_files=True,
    ),
    Platform.ZALO_BOT: _ZALO_BOT,
    # Zalo OA: plain text up to 2000 characters; oa.query.show buttons to followers (their
    # payload comes back as the follower's message); GMF groups with total_member.
    Platform.ZALO_OA: replace(
        _ZALO_BOT,
        inline_buttons=True,
        member_count=True,
        max_button_label=100,
        max_callback_bytes=64,
        polling=False,  # events come only by the webhook set in Zalo's developer console
    ),
}
