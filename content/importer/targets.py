"""Targets (chỉ tiêu): sentences in a "MỤC TIÊU"/"CHỈ TIÊU" part with a percentage or a count.

"100% cán bộ … được quán triệt", "ít nhất 90% …", "tối thiểu 02 chuyên đề/năm". A count is taken
only when it is qualified (ít nhất, tối thiểu …), zero-padded ("02", as documents write counts)
or given per period ("/năm"), so that "Nghị quyết số 71" or "6 tháng" are not targets.
"""

from __future__ import annotations

import re
from datetime import date
from typing import Any

from bot.domain import Audience
from content.importer.document import Line, under
from content.importer.vocab import AUDIENCE_WORDS, METRIC_WORDS, WORKFORCE, find_fuzzy

_AT_LEAST = r"it nhat|toi thieu|khong duoi|khong it hon|dat tu|tu|tren"
_AT_MOST = r"toi da|khong qua|khong vuot qua|duoi"
_QUALIFIER = re.compile(rf"(?:^|\s)({_AT_LEAST}|{_AT_MOST})\s*$")
_PERCENT = re.compile(r"(?<![\d/.,])(\d{1,3}(?:[.,]\d{1,2})?)\s*%")
_COUNT = re.compile(r"(?<![\w/.,-])(\d{1,3})\s+(?=[a-z])")
_OCR_DIGITS = re.compile(r"(?<!\w)(?=[0-9oil]*[0-9])[0-9oil]{2,3}(?!\w)")
_PER = [
    (r"/\s*nam hoc|(?:moi|hang|trong moi) nam hoc", "school_year"),
    (r"/\s*nam|(?:moi|hang) nam", "year"),
    (r"/\s*quy|(?:moi|hang) quy", "quarter"),
    (r"/\s*thang|(?:moi|hang) thang", "month"),
]
_BY_YEAR = re.compile(r"den (?:het |cuoi )?nam (\d{4})")
_STAGE = re.compile(r"giai doan (\d{4})\s*-\s*(\d{4})")
_RATE = re.compile(rf"\bty le ([a-z ]+?)\s*(?:{_AT_LEAST}|{_AT_MOST})?\s*$")
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
        for start, end, value, unit in _quantities(text):
            # "Tỷ lệ trẻ em đuối nước tối đa 2%": the rate names what is counted.
            rate = _RATE.search(text[:start])
            about = rate.group(1) if rate else text[end:]
            subject = about if rate else _subject(about)
            targets.append(
                {
                    "metric": _metric(about, ocr) or _slug(subject),
                    "description": line.text,
                    "comparator": _comparator(text[:start], text[end:]),
                    "value": value,
                    "unit": unit,
                    "audience": _audience(subject, ocr),
                    "audiences": audiences_in(subject, ocr),
                    "per": _per(text),
                    "by": _by(line, text),
                }
            )
    return targets


def _quantities(text: str) -> list[tuple[int, int, int | float, str]]:
    found: list[tuple[int, int, int | float, str]] = []
    for m in _PERCENT.finditer(text):
        found.append((m.start(), m.end(), _number(m.group(1)), "percent"))
    for m in _COUNT.finditer(text):
        if any(s <= m.start() < e for s, e, _, _ in found):
            continue
        digits, rest = m.group(1), text[m.end() :]
        qualified = _QUALIFIER.search(text[: m.start()]) is not None
        per_period = re.match(r"[^,;.]{0,40}?/\s*(nam|quy|thang)", rest) is not None
        if qualified or per_period or (len(digits) >= 2 and digits.startswith("0")):
            found.append((m.start(), m.end(), int(digits), "count"))
    return sorted(found)


def _number(text: str) -> int | float:
    value = float(text.replace(",", "."))
    return int(value) if value.is_integer() else value


def _comparator(before: str, after: str) -> str:
    clause = re.split(r"[,;:]", before)[-1]
    if m := _QUALIFIER.search(clause):
        return "<=" if re.fullmatch(_AT_MOST, m.group(1)) else ">="
    return ">=" if re.match(r"[^,;.]{0,60}\btro len\b", after) else "="


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


def _slug(subject: str) -> str:
    words = re.findall(r"[a-z]+", subject)[:3]
    return "_".join(words) or "target"


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
