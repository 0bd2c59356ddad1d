"""Message text handling as Telegram does it: HTML parse mode, UTF-16 lengths, entities.

`parse_html` follows the Bot API server's own parser (tdlib's parse_html) rather than a browser
parser, so it accepts and rejects the same inputs with the same error texts: only Telegram's tags,
byte offsets in errors, unknown `&entities;` kept literally, a stray `<` is an error.
"""

from __future__ import annotations

import html
import itertools
import re
from typing import Any

JSON = dict[str, Any]


class EntityParseError(ValueError):
    """Text that Telegram would answer with "Bad Request: can't parse entities: ..."."""


ALLOWED_TAGS = frozenset(
    {
        "a", "b", "strong", "i", "em", "s", "strike", "del", "u", "ins",
        "tg-spoiler", "tg-emoji", "span", "pre", "code", "blockquote",
    }
)  # fmt: skip
_SIMPLE = {
    "b": "bold", "strong": "bold", "i": "italic", "em": "italic", "u": "underline",
    "ins": "underline", "s": "strikethrough", "strike": "strikethrough", "del": "strikethrough",
    "tg-spoiler": "spoiler",
}  # fmt: skip
_SPACE = frozenset(" \t\r\n\v\0")  # tdlib's is_space, including the terminating NUL
_SPECIAL = re.compile(r"[<&]")
_NAMED = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}
_TRIM = " \t\r\n\v\f"


def utf16_len(s: str) -> int:
    if s.isascii():
        return len(s)
    return len(s.encode("utf-16-le")) // 2


def _byte_offset(s: str, pos: int) -> int:
    return len(s[:pos].encode())


def _decode_entity(s: str, pos: int) -> tuple[str, int]:
    """Decode the `&...` reference at pos; ("", pos) when it is not one Telegram knows."""
    end = pos + 1
    if s[end] == "#":
        end += 1
        code = 0
        if s[end] == "x":
            end += 1
            while s[end] in "0123456789abcdefABCDEF":
                code = code * 16 + int(s[end], 16)
                end += 1
                if code >= 0x10FFFF:
                    return "", pos
        else:
            while s[end] in "0123456789":
                code = code * 10 + int(s[end])
                end += 1
                if code >= 0x10FFFF:
                    return "", pos
        if code == 0 or 0xD800 <= code <= 0xDFFF:
            return "", pos
        ch = chr(code)
    else:
        while s[end].isascii() and s[end].isalpha():
            end += 1
        named = _NAMED.get(s[pos + 1 : end])
        if named is None:
            return "", pos
        ch = named
    if s[end] == ";":
        end += 1
    return ch, end


def _normalize_url(url: str) -> str | None:
    url = url.strip()
    if not url or any(c.isspace() for c in url):
        return None
    scheme, sep, _rest = url.partition("://")
    if sep:
        return url if scheme.lower() in {"http", "https", "tg", "ton", "ftp"} else None
    if url.startswith("tg:"):
        return url
    host = url.split("/", 1)[0]
    return "http://" + url if "." in host else None


def parse_html(src: str) -> tuple[str, list[JSON]]:
    """Telegram HTML -> (plain text, entities with UTF-16 offsets). Raises EntityParseError."""
    if "<" not in src and "&" not in src:
        return src, []
    s = src.replace("\0", "") + "\0"  # NUL sentinel, as the C++ parser sees its string
    n = len(s) - 1
    out: list[str] = []
    u16 = 0
    nested: list[tuple[str, str, int, int]] = []  # tag, argument, utf16 offset, len(out)
    entities: list[JSON] = []
    i = 0
    while i < n:
        m = _SPECIAL.search(s, i, n)
        j = m.start() if m else n
        if j > i:
            chunk = s[i:j]
            out.append(chunk)
            u16 += utf16_len(chunk)
            i = j
            if i >= n:
                break
        if s[i] == "&":
            ch, end = _decode_entity(s, i)
            if not ch:
                ch, end = "&", i + 1
            out.append(ch)
            u16 += utf16_len(ch)
            i = end
            continue
        begin = i
        i += 1
        if s[i] != "/":
            while s[i] not in _SPACE and s[i] != ">":
                i += 1
            if i >= n:
                raise EntityParseError(
                    f"Unclosed start tag at byte offset {_byte_offset(s, begin)}"
                )
            tag = s[begin + 1 : i].lower()
            if tag not in ALLOWED_TAGS:
                raise EntityParseError(
                    f'Unsupported start tag "{tag}" at byte offset {_byte_offset(s, begin)}'
                )
            argument = ""
            while s[i] != ">":
                while s[i] != "\0" and s[i] in _SPACE:
                    i += 1
                if s[i] == ">":
                    break
                name_start = i
                while s[i] not in _SPACE and s[i] != "=" and s[i] != ">":
                    i += 1
                attr = s[name_start:i].lower()
                if not attr:
                    raise EntityParseError(
                        f'Empty attribute name in the tag "{tag}" at byte offset '
                        f"{_byte_offset(s, begin)}"
                    )
                while s[i] != "\0" and s[i] in _SPACE:
                    i += 1
                if s[i] != "=":
                    if tag == "blockquote" and attr == "expandable":
                        argument = "expandable"
                        continue
                    raise EntityParseError(
                        f'Expected equal sign in declaration of an attribute of the tag "{tag}" '
                        f"at byte offset {_byte_offset(s, begin)}"
                    )
                i += 1
                while s[i] != "\0" and s[i] in _SPACE:
                    i += 1
                if i >= n:
                    raise EntityParseError(
                        f'Unclosed start tag "{tag}" at byte offset {_byte_offset(s, begin)}'
                    )
                if s[i] not in "'\"":
                    token_start = i
                    while s[i].isascii() and (s[i].isalnum() or s[i] in ".-"):
                        i += 1
                    value = s[token_start:i].lower()
                    if s[i] not in _SPACE and s[i] != ">":
                        raise EntityParseError(
                            f"Unexpected end of name token at byte offset "
                            f"{_byte_offset(s, token_start)}"
                        )
                else:
                    quote = s[i]
                    i += 1
                    chars: list[str] = []
                    while s[i] != quote and i < n:
                        if s[i] == "&":
                            ch, end = _decode_entity(s, i)
                            if ch:
                                chars.append(ch)
                                i = end
                                continue
                        chars.append(s[i])
                        i += 1
                    if i >= n:
                        raise EntityParseError(
                            f"Unclosed end of attribute value at byte offset "
                            f"{_byte_offset(s, begin)}"
                        )
                    i += 1
                    value = "".join(chars)
                if tag == "a" and attr == "href":
                    argument = value
                elif tag == "code" and attr == "class" and value.startswith("language-"):
                    argument = value[9:]
                elif tag == "span" and attr == "class" and value.startswith("tg-"):
                    argument = value[3:]
                elif tag == "tg-emoji" and attr == "emoji-id":
                    argument = value
            if tag == "span" and argument != "spoiler":
                raise EntityParseError(
                    f'Tag "span" must have class "tg-spoiler" at byte offset '
                    f"{_byte_offset(s, begin)}"
                )
            nested.append((tag, argument, u16, len(out)))
            i += 1
            continue
        # an end tag
        if not nested:
            raise EntityParseError(f"Unexpected end tag at byte offset {_byte_offset(s, begin)}")
        while s[i] not in _SPACE and s[i] != ">":
            i += 1
        end_name = s[begin + 2 : i].lower()
        while s[i] != "\0" and s[i] in _SPACE:
            i += 1
        if s[i] != ">":
            raise EntityParseError(f"Unclosed end tag at byte offset {_byte_offset(s, begin)}")
        i += 1
        tag, argument, start, out_index = nested.pop()
        if end_name and end_name != tag:
            raise EntityParseError(
                f"Unmatched end tag at byte offset {_byte_offset(s, begin)}, "
                f'expected "</{tag}>", found "</{end_name}>"'
            )
        if u16 > start:
            _add_entity(entities, tag, argument, start, u16 - start, "".join(out[out_index:]))
    if nested:
        raise EntityParseError(f'Can\'t find end tag corresponding to start tag "{nested[-1][0]}"')
    entities.sort(key=lambda e: (e["offset"], -e["length"]))
    return "".join(out), finish_entities(entities)


def _add_entity(
    entities: list[JSON], tag: str, argument: str, offset: int, length: int, inner: str
) -> None:
    kind = _SIMPLE.get(tag)
    if kind is not None or (tag == "span" and argument == "spoiler"):
        entities.append({"type": kind or "spoiler", "offset": offset, "length": length})
    elif tag == "a":
        url = _normalize_url(argument or inner)
        if url is not None:  # Telegram silently drops links it can't use
            entities.append({"type": "text_link", "offset": offset, "length": length, "url": url})
    elif tag == "tg-emoji":
        if argument.isdigit():
            entities.append(
                {"type": "custom_emoji", "offset": offset, "length": length,
                 "custom_emoji_id": argument}
            )  # fmt: skip
    elif tag == "blockquote":
        kind = "expandable_blockquote" if argument == "expandable" else "blockquote"
        entities.append({"type": kind, "offset": offset, "length": length})
    elif tag == "pre":
        last = entities[-1] if entities else None
        if last and last["type"] == "code" and last.get("language") and (
            last["offset"], last["length"]) == (offset, length):  # fmt: skip
            last["type"] = "pre"
        else:
            entities.append({"type": "pre", "offset": offset, "length": length})
    elif tag == "code":
        last = entities[-1] if entities else None
        if last and last["type"] == "pre" and argument and (
            last["offset"], last["length"]) == (offset, length):  # fmt: skip
            last["language"] = argument
        else:
            entity: JSON = {"type": "code", "offset": offset, "length": length}
            if argument:
                entity["language"] = argument  # becomes "pre" if a <pre> closes right here
            entities.append(entity)


def finish_entities(entities: list[JSON]) -> list[JSON]:
    """Drop the internal language hint left on plain <code> entities."""
    for e in entities:
        if e["type"] == "code":
            e.pop("language", None)
    return entities


def trim(text: str, entities: list[JSON]) -> tuple[str, list[JSON]]:
    """Strip leading/trailing whitespace like Telegram, shifting and clipping entities."""
    stripped = text.strip(_TRIM)
    if stripped == text:
        return text, entities
    if not stripped:
        return "", []
    lead = utf16_len(text[: len(text) - len(text.lstrip(_TRIM))])
    total = utf16_len(stripped)
    kept: list[JSON] = []
    for e in entities:
        start = max(0, e["offset"] - lead)
        end = min(total, e["offset"] + e["length"] - lead)
        if end > start:
            kept.append({**e, "offset": start, "length": end - start})
    return stripped, kept


_COMMAND = re.compile(r"(?<![\w/@<>])/[A-Za-z0-9_]{1,64}(?:@[A-Za-z0-9_]{3,32})?(?![\w@/])")


_MENTION = re.compile(r"(?<![\w@/])@[A-Za-z0-9_]{5,32}(?![\w@])")


def bot_command_entities(text: str) -> list[JSON]:
    """The entities Telegram marks in what a user types: commands and @username mentions."""
    if "/" not in text and "@" not in text:
        return []
    found = [("bot_command", m) for m in _COMMAND.finditer(text)]
    found += [("mention", m) for m in _MENTION.finditer(text)]
    found.sort(key=lambda f: f[1].start())
    return [
        {
            "type": kind,
            "offset": utf16_len(text[: m.start()]),
            "length": utf16_len(m.group()),
        }
        for kind, m in found
    ]


# --- rendering for the browser UI -------------------------------------------------------------

_OPEN = {
    "bold": "<b>", "italic": "<i>", "underline": "<u>", "strikethrough": "<s>",
    "spoiler": '<span class="tg-spoiler">', "code": "<code>", "pre": "<pre>",
    "blockquote": "<blockquote>", "expandable_blockquote": "<blockquote>",
    "bot_command": '<span class="tg-command">',
}  # fmt: skip
_CLOSE = {
    "bold": "</b>", "italic": "</i>", "underline": "</u>", "strikethrough": "</s>",
    "spoiler": "</span>", "code": "</code>", "pre": "</pre>", "blockquote": "</blockquote>",
    "expandable_blockquote": "</blockquote>", "bot_command": "</span>",
}  # fmt: skip


def _open_tag(e: JSON) -> str:
    if e["type"] == "text_link":
        url = str(e.get("url", ""))
        if not url.lower().startswith(("http://", "https://", "tg://")):
            return '<a href="#">'
        return f'<a href="{html.escape(url)}" target="_blank" rel="noopener noreferrer">'
    return _OPEN.get(e["type"], "<span>")


def _close_tag(e: JSON) -> str:
    return "</a>" if e["type"] == "text_link" else _CLOSE.get(e["type"], "</span>")


def entities_to_html(text: str, entities: list[JSON] | None) -> str:
    """Escape every character of text, then wrap entity ranges in a fixed set of safe tags."""
    if not entities:
        return html.escape(text)
    # UTF-16 offset -> str index (differs only when astral characters such as emoji occur).
    index: dict[int, int] = {}
    u = 0
    for k, ch in enumerate(text):
        index[u] = k
        u += 2 if ord(ch) > 0xFFFF else 1
    index[u] = len(text)
    spans: list[tuple[int, int, JSON]] = []
    for e in entities:
        a, b = index.get(e["offset"]), index.get(e["offset"] + e["length"])
        if a is not None and b is not None and b > a:
            spans.append((a, b, e))
    spans.sort(key=lambda x: (x[0], -x[1]))
    bounds = sorted({0, len(text), *(a for a, _, _ in spans), *(b for _, b, _ in spans)})
    out: list[str] = []
    for lo, hi in itertools.pairwise(bounds):
        # Re-open the covering entities for every segment: always well nested, even when
        # Telegram-style entities overlap without nesting.
        cover = [e for a, b, e in spans if a <= lo and hi <= b]
        out.extend(_open_tag(e) for e in cover)
        out.append(html.escape(text[lo:hi]))
        out.extend(_close_tag(e) for e in reversed(cover))
    return "".join(out)
