"""Short excerpts of what people wrote, fit to show someone else (officials' alerts, reports):
phone numbers, e-mail addresses, links and the names the code can detect are left out."""

from __future__ import annotations

import re
from typing import Final

EXCERPT: Final = 140  # characters

# A run of digit groups starting like a Vietnamese phone number ("0912 345 678",
# "+84.912.345.678"); replaced when it holds 9 digits or more (a long id goes too: safe side).
_PHONE: Final = re.compile(r"(?<![\w+])(?:\+?84[\s.\-]?|0)\d{2,4}(?:[\s.\-]?\d{2,4}){1,4}")
_EMAIL: Final = re.compile(r"\S+@\S+\.\w+")
_LINK: Final = re.compile(r"https?://\S+|www\.\S+")
# A title or kinship word followed by capitalised words is a person's name ("cô Yên", "bé
# Minh", "chị Đ.T.H"); so is a run of two or more capitalised words inside a sentence
# ("Nguyễn Văn An"). Over-cutting a place name is the safe mistake.
_TITLE_LIST: Final = "cô thầy chị anh em bé cháu con mẹ bố ba má ông bà bác chú dì cậu bạn ph gv"
_TITLES: Final = frozenset(_TITLE_LIST.split())
NAME: Final = "…"  # what a name is replaced by


def excerpt(text: str, limit: int = EXCERPT) -> str:
    """`text` short and without what could identify someone: phone numbers, e-mail
    addresses, links and the names this can detect are replaced; cut at a word."""
    text = _PHONE.sub(_phone, text)
    text = _LINK.sub("[liên kết]", _EMAIL.sub("[email]", text))
    text = " ".join(_without_names(text.split()))
    if len(text) <= limit:
        return text
    return text[:limit].rsplit(" ", 1)[0] + "…"


def _phone(match: re.Match[str]) -> str:
    digits = sum(c.isdigit() for c in match.group())
    return "[số điện thoại]" if digits >= 9 else match.group()


def _without_names(words: list[str]) -> list[str]:
    def capital(i: int) -> bool:
        return i < len(words) and words[i][:1].isupper()

    out: list[str] = []
    i = 0
    while i < len(words):
        sentence_start = not out or out[-1].endswith((".", "!", "?", ":", "…"))
        titled = words[i].lower().strip(",.:;!?") in _TITLES and capital(i + 1)
        run = not sentence_start and capital(i) and capital(i + 1)
        if not (titled or run):
            out.append(words[i])
            i += 1
            continue
        if titled:
            out.append(words[i])
            i += 1
        while capital(i):
            i += 1
        tail = words[i - 1][-1]
        out.append(NAME + (tail if tail in ",.:;!?" and tail != "." else ""))
    return out
