"""Targets (chỉ tiêu): sentences in a "MỤC TIÊU"/"CHỈ TIÊU" part with a percentage or a count.

"100% cán bộ … được quán triệt" is (briefed, =, 100, percent, staff); "tối thiểu 02 chuyên
đề/năm" is (thematic_sessions, >=, 2, count, per year). Which numbers are quantities, and their
comparators, is content/importer/quantities.py; a measure the vocabulary does not know is
"manual", for the reviewer to name.
"""

from __future__ import annotations

import re
from datetime import date
from typing import Any

from bot.domain import Audience
from content.importer.document import Line, under
from content.importer.quantities import (
    AT_LEAST,
    AT_MOST,
    carried,
    open_ended,
    qualifier,
    quantities,
)
from content.importer.vocab import AUDIENCE_WORDS, METRIC_WORDS, WORKFORCE, find_fuzzy

_OCR_DIGITS = re.compile(r"(?<!\w)(?=[0-9oil]*[0-9])[0-9oil]{2,3}(?!\w)")
_PER = [
    (r"/\s*nam hoc|(?:moi|hang|trong moi) nam hoc", "school_year"),
    (r"/\s*nam|(?:moi|hang) nam", "year"),
    (r"/\s*quy|(?:moi|hang) quy", "quarter"),
    (r"/\s*thang|(?:moi|hang) thang", "month"),
]
_BY_YEAR = re.compile(r"den (?:het |cuoi )?nam (\d{4})")
_STAGE = re.compile(r"giai doan (\d{4})\s*-\s*(\d{4})")
_RATE = re.compile(rf"\bty le ([a-z ]+?)\s*(?:{AT_LEAST}|{AT_MOST})?\s*$")
_VERB = re.compile(r"\b(du[oqg]c|hieu|nam|tham gia|xay dung|trien khai|dat|lua chon|to chuc)\b")


def _ocr_digits(text: str) -> str:
    """ "0I" → "01", "O2" → "02": OCR reads 0 and 1 as letters."""
    return _OCR_DIGITS.sub(lambda m: m.group().translate(str.maketrans("oil", "011")), text)


def extract_targets(lines: list[Line], ocr: bool = False) -> list[dict[str, Any]]:
    targets = []
    for line in lines:
        if line.is_heading or not under(line, "muc tieu", "chi tieu"):
            continue
        text = _ocr_digits(line.folded)
        previous: tuple[int, str | None] = (0, None)  # end and qualifier comparator
        for q in quantities(text):
            # "Tỷ lệ trẻ em đuối nước tối đa 2%": the rate names what is counted.
            rate = _RATE.search(text[: q.start])
            about = rate.group(1) if rate else text[q.end :]
            subject = about if rate else _subject(about)
            qualified = q.bound or qualifier(text[: q.start])
            comparator = qualified or carried(text[previous[0] : q.start], previous[1])
            previous = (q.end, comparator)
            targets.append(
                {
                    "metric": _metric(about, ocr) or "manual",
                    "description": line.text,
                    "comparator": comparator or open_ended(text[q.end :]),
                    "value": q.value,
                    "unit": q.unit,
                    "audience": _audience(subject, ocr),
                    "audiences": audiences_in(subject, ocr),
                    "per": _per(text),
                    "by": _by(line, text),
                }
            )
    return targets


def _subject(after: str) -> str:
    """The words the quantity counts: up to the clause's verb."""
    m = _VERB.search(after)
    return after[: m.start()] if m else after


def audiences_in(text: str, ocr: bool = False) -> set[Audience]:
    found: set[Audience] = set()
    for words, audience in AUDIENCE_WORDS:
        pos = find_fuzzy(words, text, ocr)
        if pos >= 0:
            found.add(audience)
            text = text[:pos] + " " * len(words) + text[pos + len(words) :]
    return found


def _audience(subject: str, ocr: bool) -> Audience | None:
    found = audiences_in(subject, ocr)
    if len(found) == 1:
        return found.pop()
    # Several kinds of the sector's own people ("cán bộ, giáo viên, nhân viên") are its staff;
    # a mix with the public is reported per audience.
    return Audience.staff if found and found <= WORKFORCE else None


def _metric(about: str, ocr: bool) -> str | None:
    hits = [
        (pos, -len(words), m)
        for words, m in METRIC_WORDS
        if (pos := find_fuzzy(words, about, ocr)) >= 0
    ]
    return min(hits)[2] if hits else None


def _per(text: str) -> str | None:
    for pattern, per in _PER:
        if re.search(pattern, text):
            return per
    return None


def _by(line: Line, text: str) -> date | None:
    if m := _BY_YEAR.search(text):
        return date(int(m.group(1)), 12, 31)
    for heading in reversed(line.headings):
        if m := _STAGE.search(heading.folded):
            return date(int(m.group(2)), 12, 31)
        if m := _BY_YEAR.search(heading.folded):
            return date(int(m.group(1)), 12, 31)
    return None
