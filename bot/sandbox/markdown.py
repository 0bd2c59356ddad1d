"""Telegram's MarkdownV2 and legacy Markdown parse modes, after the Bot API server's parsers.

Same contract as `formatting.parse_html`: (plain text, entities with UTF-16 offsets), or
`EntityParseError` carrying Telegram's error text.
"""

from __future__ import annotations

from .formatting import JSON, EntityParseError, _normalize_url

V2_RESERVED = "_*[]()~`>#+-=|{}.!"
_SIMPLE_V2 = {"*": "bold", "_": "italic", "~": "strikethrough"}
_TYPE_NAMES = {
    "bold": "Bold", "italic": "Italic", "underline": "Underline",
    "strikethrough": "Strikethrough", "spoiler": "Spoiler", "code": "Code", "pre": "Pre",
    "text_link": "TextUrl", "custom_emoji": "CustomEmoji",
}  # fmt: skip


def _u16(ch: str) -> int:
    return 2 if ord(ch) > 0xFFFF else 1


def _byte(s: str, pos: int) -> int:
    return len(s[:pos].encode())


def _reserved(ch: str) -> EntityParseError:
    return EntityParseError(
        f"Character '{ch}' is reserved and must be escaped with the preceding '\\'"
    )


def _pre_language(s: str, i: int, n: int) -> tuple[str, int]:
    """After an opening ```: optional language word, then one skipped line break."""
    end = i
    while s[end] not in " \t\r\n\v\0`":
        end += 1
    language = ""
    if end != i and end < n and s[end] != "`":
        language, i = s[i:end], end
    if s[i] in "\r\n":
        i += 2 if s[i + 1] in "\r\n" and s[i] != s[i + 1] else 1
    return language, i


class _V2:
    def __init__(self, text: str) -> None:
        self.s = text + "\0\0\0"
        self.n = len(text)
        self.out: list[str] = []
        self.u16 = 0
        # type, argument, utf16 offset, source index, len(out)
        self.nested: list[tuple[str, str, int, int, int]] = []
        self.entities: list[JSON] = []
        self.quote: tuple[int, bool] | None = None  # utf16 start, expandable

    def emit(self, ch: str) -> None:
        self.out.append(ch)
        self.u16 += _u16(ch)

    def close_quote(self, end: int) -> None:
        assert self.quote is not None
        start, expandable = self.quote
        if end > start:
            kind = "expandable_blockquote" if expandable else "blockquote"
            self.entities.append({"type": kind, "offset": start, "length": end - start})
        self.quote = None

    def line_start(self, i: int) -> int:
        """Handle '>' / '**>' quote markers at the start of a line; returns the new index."""
        s = self.s
        if s[i] == ">":
            if self.quote is None:
                self.quote = (self.u16, False)
            return i + 1
        if s.startswith("**>", i) and self.quote is None:
            self.quote = (self.u16, True)
            return i + 3
        if self.quote is not None:
            self.close_quote(self.u16 - 1 if self.out and self.out[-1] == "\n" else self.u16)
        return i

    def is_end(self, i: int) -> bool:
        if not self.nested:
            return False
        s, kind = self.s, self.nested[-1][0]
        c = s[i]
        if kind == "bold":
            return c == "*"
        if kind == "italic":
            return c == "_" and s[i + 1] != "_"
        if kind == "underline":
            return c == "_" and s[i + 1] == "_"
        if kind == "strikethrough":
            return c == "~"
        if kind == "spoiler":
            return c == "|" and s[i + 1] == "|"
        if kind == "code":
            return c == "`"
        if kind == "pre":
            return s.startswith("```", i)
        return c == "]"  # text_link, custom_emoji

    def parse(self) -> tuple[str, list[JSON]]:
        s, n = self.s, self.n
        i = 0
        while i < n:
            if i == 0 or s[i - 1] == "\n":
                i = self.line_start(i)
                if i >= n:
                    break
            c = s[i]
            if c == "\\" and "\0" < s[i + 1] <= "~":
                self.emit(s[i + 1])
                i += 2
                continue
            in_code = bool(self.nested) and self.nested[-1][0] in ("code", "pre")
            if c != "`" if in_code else c not in V2_RESERVED:
                self.emit(c)
                i += 1
                continue
            if self.quote and self.quote[1] and c == "|" and s[i + 1] == "|" and (
                s[i + 2] in "\n\0" and not (self.nested and self.nested[-1][0] == "spoiler")
            ):  # fmt: skip
                self.close_quote(self.u16)  # "||" ends an expandable quote
                i += 2
                continue
            i = self.end_entity(i) if self.is_end(i) else self.begin_entity(i)
        if self.nested:
            kind, _, _, start, _ = self.nested[-1]
            raise EntityParseError(
                f"Can't find end of {_TYPE_NAMES[kind]} entity at byte offset {_byte(s, start)}"
            )
        if self.quote is not None:
            self.close_quote(self.u16)
        self.entities.sort(key=lambda e: (e["offset"], -e["length"]))
        return "".join(self.out), self.entities

    def begin_entity(self, i: int) -> int:
        s, c, start = self.s, self.s[i], i
        argument = ""
        if c in "*~":
            kind = _SIMPLE_V2[c]
        elif c == "_":
            kind = "underline" if s[i + 1] == "_" else "italic"
            if kind == "underline":
                i += 1
        elif c == "|" and s[i + 1] == "|":
            kind, i = "spoiler", i + 1
        elif c == "[":
            kind = "text_link"
        elif c == "!" and s[i + 1] == "[":
            kind, i = "custom_emoji", i + 1
        elif c == "`":
            if s.startswith("```", i):
                kind = "pre"
                argument, i = _pre_language(s, i + 3, self.n)
                i -= 1
            else:
                kind = "code"
        else:
            raise _reserved(c)
        self.nested.append((kind, argument, self.u16, start, len(self.out)))
        return i + 1

    def end_entity(self, i: int) -> int:
        s = self.s
        kind, argument, offset, _, out_index = self.nested.pop()
        skip = self.u16 == offset
        if kind in ("underline", "spoiler"):
            i += 1
        elif kind == "pre":
            i += 2
        elif kind in ("text_link", "custom_emoji"):
            url = "".join(self.out[out_index:])
            if s[i + 1] == "(":
                i += 2
                begin, chars = i, []
                while i < self.n and s[i] != ")":
                    if s[i] == "\\" and "\0" < s[i + 1] <= "~":
                        chars.append(s[i + 1])
                        i += 2
                        continue
                    chars.append(s[i])
                    i += 1
                if s[i] != ")":
                    raise EntityParseError(
                        f"Can't find end of a URL at byte offset {_byte(s, begin)}"
                    )
                url = "".join(chars)
            if kind == "custom_emoji":
                emoji_id = url.removeprefix("tg://emoji?id=")
                skip = skip or not emoji_id.isdigit()
                argument = emoji_id
            else:
                normalized = _normalize_url(url)
                skip = skip or normalized is None
                argument = normalized or ""
        if not skip:
            entity: JSON = {"type": kind, "offset": offset, "length": self.u16 - offset}
            if kind == "text_link":
                entity["url"] = argument
            elif kind == "custom_emoji":
                entity["custom_emoji_id"] = argument
            elif kind == "pre" and argument:
                entity["language"] = argument
            self.entities.append(entity)
        return i + 1


def parse_markdown_v2(text: str) -> tuple[str, list[JSON]]:
    return _V2(text).parse()


def parse_markdown(text: str) -> tuple[str, list[JSON]]:
    """Legacy Markdown: *bold* _italic_ `code` ```pre``` [text](url), few escapes."""
    s, n = text + "\0\0\0", len(text)
    out: list[str] = []
    entities: list[JSON] = []
    u16 = 0
    i = 0
    while i < n:
        c = s[i]
        if c == "\\" and s[i + 1] in "_*`[":
            out.append(s[i + 1])
            u16 += 1
            i += 2
            continue
        if c not in "_*`[":
            out.append(c)
            u16 += _u16(c)
            i += 1
            continue
        begin, end_char, is_pre, language = i, "]" if c == "[" else c, False, ""
        i += 1
        if c == "`" and s.startswith("``", i):
            is_pre = True
            language, i = _pre_language(s, i + 2, n)
        offset, out_index = u16, len(out)
        while i < n and (s[i] != end_char or (is_pre and not s.startswith("``", i + 1))):
            out.append(s[i])
            u16 += _u16(s[i])
            i += 1
        if i >= n:
            raise EntityParseError(
                f"Can't find end of the entity starting at byte offset {_byte(s, begin)}"
            )
        length = u16 - offset
        if c == "[":
            url = "".join(out[out_index:])
            if s[i + 1] == "(":
                i += 2
                chars = []
                while i < n and s[i] != ")":
                    chars.append(s[i])
                    i += 1
                url = "".join(chars)
            normalized = _normalize_url(url)
            if length and normalized is not None:
                entities.append(
                    {"type": "text_link", "offset": offset, "length": length, "url": normalized}
                )
        elif length:
            kind = {"_": "italic", "*": "bold"}.get(c, "pre" if is_pre else "code")
            entity: JSON = {"type": kind, "offset": offset, "length": length}
            if is_pre and language:
                entity["language"] = language
            entities.append(entity)
        i += 3 if is_pre else 1
    return "".join(out), entities
