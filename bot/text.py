"""Text helpers shared by handlers, services and adapters."""

from __future__ import annotations

import math
import re
import unicodedata
from typing import Any, Final

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


# C0 and C1 control characters (and DEL), newline and tab excepted: PostgreSQL refuses NUL in
# text, and the others only hide or garble what people see.
_CONTROLS: Final = dict.fromkeys(
    c for c in (*range(0x20), *range(0x7F, 0xA0)) if c not in (ord("\n"), ord("\t"))
)
_SURROGATE: Final = re.compile("[\ud800-\udfff]")
MAX_PAYLOAD_DEPTH: Final = 32  # Telegram's updates nest about 6 deep


def clean_text(text: str) -> str:
    """`text` without control characters (newline and tab stay), every lone surrogate replaced
    by U+FFFD (a pair of surrogates becomes the character it encodes): what a database and a
    UTF-8 encoder accept."""
    text = text.translate(_CONTROLS)
    if _SURROGATE.search(text):
        text = text.encode("utf-16-le", "surrogatepass").decode("utf-16-le", "replace")
    return text


def clean_payload(value: Any, _depth: int = 0) -> Any:
    """A JSON value with `clean_text` applied to every string, keys included. Raises ValueError
    for what JSON cannot hold (NaN, infinities, other types) or nesting past MAX_PAYLOAD_DEPTH."""
    if isinstance(value, str):
        return clean_text(value)
    if value is None or isinstance(value, bool | int):
        return value
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError("a number that JSON cannot hold")
        return value
    if _depth >= MAX_PAYLOAD_DEPTH:
        raise ValueError(f"nested deeper than {MAX_PAYLOAD_DEPTH}")
    if isinstance(value, dict):
        return {clean_text(str(k)): clean_payload(v, _depth + 1) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [clean_payload(v, _depth + 1) for v in value]
    raise ValueError(f"{type(value).__name__} is not a JSON value")


def utf16_len(text: str) -> int:
    """The length of `text` as Telegram counts it: UTF-16 code units, so an emoji or another
    character outside the Basic Multilingual Plane counts 2."""
    return len(text.encode("utf-16-le", "surrogatepass")) // 2
