"""Checking text against the HTML subset Telegram's Bot API accepts (parse_mode=HTML)."""

from __future__ import annotations

import re
from html.parser import HTMLParser

TAGS = frozenset(
    [
        "b",
        "strong",
        "i",
        "em",
        "u",
        "ins",
        "s",
        "strike",
        "del",
        "a",
        "code",
        "pre",
        "blockquote",
        "tg-spoiler",
    ]
)
_ATTRIBUTES = {"a": {"href"}, "blockquote": {"expandable"}, "code": {"class"}}
_BARE_AMPERSAND = re.compile(r"&(?!(?:lt|gt|amp|quot|#\d+|#x[0-9a-fA-F]+);)")
_BARE_LESS_THAN = re.compile(r"<(?![a-zA-Z/!])")


class HtmlProblem(Exception):
    """`tag` is the offending markup as written (for finding it in a template), if any."""

    def __init__(self, message: str, tag: str | None = None) -> None:
        super().__init__(message)
        self.tag = tag


class _Checker(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=False)
        self.open: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        written = self.get_starttag_text() or f"<{tag}>"
        if tag not in TAGS:
            raise HtmlProblem(f"{written} is not a tag Telegram allows", written)
        names = {name for name, _ in attrs}
        extra = names - _ATTRIBUTES.get(tag, set())
        if extra:
            raise HtmlProblem(f"{written}: attribute {sorted(extra)[0]} is not allowed", written)
        if tag == "a" and not dict(attrs).get("href"):
            raise HtmlProblem(f"{written}: a link needs href", written)
        self.open.append(tag)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        written = self.get_starttag_text() or f"<{tag}/>"
        raise HtmlProblem(f"{written}: Telegram has no self-closing tags", written)

    def handle_endtag(self, tag: str) -> None:
        if not self.open:
            raise HtmlProblem(f"</{tag}> closes a tag that was never opened", f"</{tag}")
        if self.open[-1] != tag:
            raise HtmlProblem(f"</{tag}> found where </{self.open[-1]}> was expected", f"</{tag}")
        self.open.pop()

    def handle_comment(self, data: str) -> None:
        raise HtmlProblem("Telegram does not accept HTML comments", "<!--")

    def handle_decl(self, decl: str) -> None:
        raise HtmlProblem(f"<!{decl}> is not Telegram HTML", f"<!{decl}")


def check_telegram_html(text: str) -> None:
    """Raise HtmlProblem unless `text` is valid Telegram HTML: allowed tags, balanced."""
    bare = _BARE_AMPERSAND.search(text)
    if bare:
        raise HtmlProblem('a bare "&": write &amp;', None)
    if _BARE_LESS_THAN.search(text):
        raise HtmlProblem('a bare "<": write &lt;', None)
    checker = _Checker()
    checker.feed(text)
    checker.close()
    if checker.open:
        tag = checker.open[-1]
        raise HtmlProblem(f"<{tag}> is never closed", f"<{tag}")
