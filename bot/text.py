"""Text helpers shared by handlers and services."""

from __future__ import annotations

import unicodedata

_NO_DECOMPOSITION = str.maketrans({"đ": "d", "Đ": "d"})


def fold(text: str) -> str:
    """Lower-case `text` and strip Vietnamese diacritics, so "Đã hiểu" and "da hieu" compare equal.

    đ has no Unicode decomposition, hence the explicit mapping.
    """
    decomposed = unicodedata.normalize("NFD", text.translate(_NO_DECOMPOSITION))
    stripped = "".join(c for c in decomposed if not unicodedata.combining(c))
    return unicodedata.normalize("NFC", stripped).lower()


def fold_phrase(text: str) -> str:
    """`fold`, with surrounding punctuation dropped and inner whitespace collapsed: the form in
    which short typed replies ("Trợ giúp!", "  da   hieu ") are matched."""
    return " ".join(fold(text).strip(" \t\r\n.,!?;:…").split())


def utf16_len(text: str) -> int:
    """The length of `text` as Telegram counts it: in UTF-16 code units (an emoji is two)."""
    return len(text.encode("utf-16-le", errors="surrogatepass")) // 2
