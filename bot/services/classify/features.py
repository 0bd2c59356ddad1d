"""Text → features for the feedback classifier: the same for formal text, text without
diacritics and chat shorthand, because everything is folded and abbreviations are expanded
before anything is counted."""

from __future__ import annotations

import itertools
import re
from typing import Final

from bot.text import fold

# Chat shorthand seen in parents' groups, folded. "k" and "ko" are "không"; "j" is "gì".
ABBREVIATIONS: Final = {
    "ko": "khong",
    "k": "khong",
    "kh": "khong",
    "hok": "khong",
    "khg": "khong",
    "kg": "khong",
    "dc": "duoc",
    "dk": "duoc",
    "ph": "phu huynh",
    "phhs": "phu huynh hoc sinh",
    "gv": "giao vien",
    "gvcn": "giao vien chu nhiem",
    "hs": "hoc sinh",
    "j": "gi",
    "bt": "binh thuong",
    "mn": "moi nguoi",
    "mng": "moi nguoi",
    "e": "em",
    "mik": "minh",
    "mk": "minh",
    "tks": "cam on",
    "thanks": "cam on",
    "thank": "cam on",
    "thx": "cam on",
    "ntn": "nhu the nao",
    "r": "roi",
    "vs": "voi",
    "bh": "bao gio",
    "sdt": "so dien thoai",
    "clb": "cau lac bo",
    "bgh": "ban giam hieu",
    "sgk": "sach giao khoa",
    "hp": "hoc phi",
    "đc": "duoc",
}
_WORD: Final = re.compile(r"[a-z0-9]+|\?")


def normalize(text: str) -> list[str]:
    """The words of `text`, folded (no diacritics, lower case), shorthand expanded; a question
    mark is kept as a word of its own."""
    words: list[str] = []
    for token in _WORD.findall(fold(text)):
        words.extend(ABBREVIATIONS.get(token, token).split())
    return words


def features(text: str, *, pairs: bool = True, chars: tuple[int, ...] = ()) -> list[str]:
    """Words, word pairs and character n-grams of the given lengths of the normalized text.
    The pairs catch phrases ("cam on", "de nghi", "nghe noi"); character n-grams were measured
    too and did worse on this data (docs/feedback.md), so the shipped model uses none."""
    words = normalize(text)
    out = [f"w:{w}" for w in words]
    if pairs:
        out += [f"b:{a}_{b}" for a, b in itertools.pairwise(words)]
    joined = f" {' '.join(words)} "
    for n in chars:
        out += [f"c:{joined[i : i + n]}" for i in range(len(joined) - n + 1)]
    return out or ["empty"]
