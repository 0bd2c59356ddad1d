"""Parse modes as Telegram applies them (HTML, MarkdownV2, Markdown)."""

from __future__ import annotations

import pytest
from telegram import Bot
from telegram.error import BadRequest

from bot.sandbox.formatting import EntityParseError, parse_html, trim
from bot.sandbox.markdown import parse_markdown, parse_markdown_v2


def test_html_unknown_entities_stay_literal() -> None:
    assert parse_html("AT&T &nbsp; &#x1F600; &lt;") == ("AT&T &nbsp; 😀 <", [])


def test_html_offsets_are_utf16() -> None:
    text, entities = parse_html("😀 <b>Bé</b>")
    assert text == "😀 Bé"
    assert entities == [{"type": "bold", "offset": 3, "length": 2}]


def test_trim_shifts_entities() -> None:
    text, entities = trim("  ab  ", [{"type": "bold", "offset": 1, "length": 3}])
    assert (text, entities) == ("ab", [{"type": "bold", "offset": 0, "length": 2}])


def test_markdown_v2_entities() -> None:
    text, entities = parse_markdown_v2(
        "*đậm* _nghiêng_ __gạch__ ~xoá~ ||ẩn|| `mã` [liên kết](https://loa.vn) hết\\."
    )
    assert text == "đậm nghiêng gạch xoá ẩn mã liên kết hết."
    assert [e["type"] for e in entities] == [
        "bold", "italic", "underline", "strikethrough", "spoiler", "code", "text_link"
    ]  # fmt: skip
    assert entities[-1]["url"] == "https://loa.vn"


@pytest.mark.parametrize(
    ("text", "error"),
    [
        ("Giá 5.000đ", "Character '.' is reserved and must be escaped with the preceding '\\'"),
        ("a-b", "Character '-' is reserved and must be escaped with the preceding '\\'"),
        ("x *đậm", "Can't find end of Bold entity at byte offset 2"),
    ],
)
def test_markdown_v2_errors(text: str, error: str) -> None:
    with pytest.raises(EntityParseError) as info:
        parse_markdown_v2(text)
    assert str(info.value) == error


def test_markdown_v2_blockquote_and_pre() -> None:
    assert parse_markdown_v2(">trích\n>dẫn\nsau") == (
        "trích\ndẫn\nsau", [{"type": "blockquote", "offset": 0, "length": 9}]
    )  # fmt: skip
    text, entities = parse_markdown_v2("```python\nx = 1\n```")
    assert text == "x = 1\n" and entities[0]["language"] == "python"


def test_legacy_markdown() -> None:
    assert parse_markdown("*b* _i_ a\\_b") == (
        "b i a_b",
        [{"type": "bold", "offset": 0, "length": 1}, {"type": "italic", "offset": 2, "length": 1}],
    )
    with pytest.raises(EntityParseError, match="Can't find end of the entity starting at byte"):
        parse_markdown("*open")


async def test_parse_modes_through_ptb(bot: Bot, world: dict[str, int]) -> None:
    msg = await bot.send_message(world["group"], "*Họp* lúc 8h\\.", parse_mode="MarkdownV2")
    assert msg.text == "Họp lúc 8h." and msg.entities[0].type == "bold"
    with pytest.raises(BadRequest, match=r"(?i)character '\.' is reserved"):
        await bot.send_message(world["group"], "Họp lúc 8h.", parse_mode="MarkdownV2")
    with pytest.raises(BadRequest, match=r"(?i)unsupported parse_mode"):
        await bot.send_message(world["group"], "x", parse_mode="BBCode")
