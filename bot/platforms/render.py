"""The one conversion at the adapter boundary: the canonical message (Telegram-HTML subset with
buttons) as a platform can show it. Nothing upstream of an adapter renders per platform."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import replace
from typing import Final

from bot.domain import Button, OutboundMessage
from bot.platforms.base import Capabilities, Markup
from content.templates import Templates, html_to_plain

NUMBERED_REPLIES: Final = "posts/_zalo_replies.j2"
# Buttons whose data starts "ack:", "quiz:" or "rsvp:" are a post's answers (content.campaign).
_POST_ANSWERS: Final = frozenset({"ack", "quiz", "rsvp"})
_BLANK_LINES: Final = re.compile(r"\n{3,}")


def for_platform(
    message: OutboundMessage, capabilities: Capabilities, templates: Templates
) -> OutboundMessage:
    """`message` as the platform of `capabilities` shows it: where there are no inline buttons,
    they become numbered replies at the end of the text; where there is no markup, plain text.
    Raises content.templates.TemplateError if the numbered replies' template fails."""
    text, buttons = message.text, message.buttons
    if buttons and not capabilities.inline_buttons:
        labels = [b.label for b in buttons]
        replies = templates.render(NUMBERED_REPLIES, answer=answer_kind(buttons), labels=labels)
        text, buttons = f"{text}\n\n{replies}", ()
    if capabilities.markup == Markup.PLAIN:
        text = plain(text)
    return replace(message, text=text, buttons=buttons)


def plain(text: str) -> str:
    """The canonical Telegram-HTML text as plain text, without runs of blank lines."""
    return _BLANK_LINES.sub("\n\n", html_to_plain(text))


def answer_kind(buttons: Sequence[Button]) -> str:
    """ "ack", "quiz" or "rsvp" for a post's answers, read from the data prefixes; "choice" for
    any other list of buttons."""
    kinds = {b.data.split(":", 1)[0] for b in buttons}
    if len(kinds) != 1 or not kinds <= _POST_ANSWERS:
        return "choice"
    (kind,) = kinds
    return "choice" if kind == "ack" and len(buttons) > 1 else kind
