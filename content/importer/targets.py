"""Targets (chỉ tiêu): sentences in a "MỤC TIÊU"/"CHỈ TIÊU" part with a percentage or a count.

"100% cán bộ … được quán triệt", "ít nhất 90% …", "tối thiểu 02 chuyên đề/năm". A count is taken
only when it is qualified (ít nhất, tối thiểu …), zero-padded ("02", as documents write counts)
or given per period ("/năm"), so that "Nghị quyết số 71" or "6 tháng" are not targets.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from typing import Any

from bot.domain import Audience
from content.importer.document import Line, under
from content.importer.vocab import AUDIENCE_WORDS, METRIC_WORDS, WORKFORCE, find_fuzzy

_AT_LEAST = r"it nhat|toi thieu|khong duoi|khong it hon|dat tu|tu|tren"
_AT_MOST = r"toi da|khong qua|khong vuot qua|duoi"
_QUALIFIER = re.compile(rf"(?:^|\s)({_AT_LEAST}|{_AT_MOST})(?: la)?\s*$")
_DECIMAL = r"\d{1,3}(?:[.,]\d{1,2})?"  # "99,5"; Vietnamese writes decimals with a comma
_PERCENT = re.compile(rf"(?<![\d/.,])({_DECIMAL})\s*%")
# "từ 70% đến 80%", "từ 5 - 10%", "8,3 - 8,5%": a lower and an upper bound.
_PERCENT_RANGE = re.compile(
    rf"(?<![\d/.,])(?:tu )?({_DECIMAL})\s*%?\s*(?:-|–|den)\s*(?:duoi |tren )?({_DECIMAL})\s*%"
)
# "02", "470", "150.000", "300 triệu"; followed by a word or the clause's end.
_COUNT = re.compile(
    r"(?<![\w/.,-])(\d{1,3}(?:\.\d{3})+|\d{1,3})(?: (trieu|nghin|ngan))?(?![.,]\d)(?=\s+[a-z]|\s*[,;.]|\s*$)"
)
_COUNT_RANGE = re.compile(r"(?:-|–|den)\s*(?:duoi |tren )?\d{1,3}(?=\s+[a-z])")
_WORD_COUNT = re.compile(
    r"(?:it nhat|toi thieu|khong duoi|khong it hon) (mot|hai|ba|bon|nam|sau|bay|tam|chin|muoi)"
    r"(?= [a-z])"
)
_WORD_NUMBERS = "mot hai ba bon nam sau bay tam chin muoi".split()
_MULTIPLIERS = {"trieu": 1_000_000, "nghin": 1000, "ngan": 1000}
# A number that is an age, a duration, a distance, an area (“6 tuổi”, “05 năm”, “12km”) …
_MEASURE_AFTER = re.compile(
    r"[\s-]*(?:den|duoi|tren)?[\s\d-]*(?:tuoi|thang|nam|ngay|tuan|gio|phut|km|ha|kg|m2?)\b"
)
# … or a rank, a level, a date, a document's number (“lớp 5”, “mức độ 3”, “số 95”, “ngày 09”).
_ORDINAL_BEFORE = re.compile(
    r"\b(?:lop|muc do|muc|khoa|so|thu|nam|thang|ngay|giai doan|dieu|khoan|chuong|tuoi|quy|"
    r"ky|top|nhiem ky)\s*[-(]?\s*$"
)
_PER_PERIOD = re.compile(r"[^,;.]{0,40}?(?:/\s*(?:nam|quy|thang)|\b(?:moi|hang) (?:nam|quy|thang)\b)")
_SUBJECT_OF_TARGET = re.compile(r"[^,;.]{0,80}?\b(?:dat|duoc)\b")
_CLAUSE_START = re.compile(r"(?:^|[,;:(]|\bphan dau|\bco)\s*$")
_PREDICATE = re.compile(
    r"\b(?:dat|duoc|co|se|la|biet|tang|giam|xay dung|trien khai|to chuc|tham gia|hieu)\b"
)
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


@dataclass(frozen=True)
class Quantity:
    start: int
    end: int
    value: int | float
    unit: str
    bound: str | None = None  # the comparator a range gives its ends


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
        for q in _quantities(text):
            # "Tỷ lệ trẻ em đuối nước tối đa 2%": the rate names what is counted.
            rate = _RATE.search(text[: q.start])
            about = rate.group(1) if rate else text[q.end :]
            subject = about if rate else _subject(about)
            qualified = q.bound or _qualifier(text[: q.start])
            comparator = qualified or _carried(text[previous[0] : q.start], previous[1])
            previous = (q.end, comparator)
            targets.append(
                {
                    "metric": _metric(about, ocr) or "manual",
                    "description": line.text,
                    "comparator": comparator or _open_ended(text[q.end :]),
                    "value": q.value,
                    "unit": q.unit,
                    "audience": _audience(subject, ocr),
                    "audiences": audiences_in(subject, ocr),
                    "per": _per(text),
                    "by": _by(line, text),
                }
            )
    return targets


def _quantities(text: str) -> list[Quantity]:
    found: list[Quantity] = []
    for m in _PERCENT_RANGE.finditer(text):
        low, high = _number(m.group(1)), _number(m.group(2))
        found.append(Quantity(m.start(1), m.start(1) + len(m.group(1)), low, "percent", ">="))
        found.append(Quantity(m.start(2), m.end(), high, "percent", "<="))
    for m in _PERCENT.finditer(text):
        if not _taken(found, m.start()):
            found.append(Quantity(m.start(), m.end(), _number(m.group(1)), "percent"))
    found.extend(_counts(text, found))
    return sorted(found, key=lambda q: q.start)


def _taken(found: list[Quantity], pos: int) -> bool:
    return any(q.start <= pos < q.end for q in found)


def _counts(text: str, percents: list[Quantity]) -> list[Quantity]:
    counts = [
        Quantity(m.start(1), m.end(), _WORD_NUMBERS.index(m.group(1)) + 1, "count")
        for m in _WORD_COUNT.finditer(text)
        if not _MEASURE_AFTER.match(text[m.end() :])
        and not _condition_of_percent(text[: m.start()], percents)
    ]
    for m in _COUNT.finditer(text):
        before, rest = text[: m.start()], text[m.end() :]
        if _taken(percents, m.start()) or _ORDINAL_BEFORE.search(before):
            continue
        if _MEASURE_AFTER.match(rest) or _condition_of_percent(before, percents):
            continue
        value = int(m.group(1).replace(".", "")) * _MULTIPLIERS.get(m.group(2) or "", 1)
        if _COUNT_RANGE.match(rest.lstrip()):
            continue  # "từ 2 đến 3 …" between counts: rare in targets, often ages
        qualified = _QUALIFIER.search(before) is not None
        padded = len(m.group(1)) >= 2 and m.group(1).startswith("0")
        per_period = _PER_PERIOD.match(rest) is not None
        subject = _CLAUSE_START.search(before) is not None and _SUBJECT_OF_TARGET.match(rest)
        if qualified or padded or per_period or subject:
            counts.append(Quantity(m.start(), m.end(), value, "count"))
    return counts


def _condition_of_percent(before: str, percents: list[Quantity]) -> bool:
    """ "50% xã … sở hữu ít nhất một bể bơi": the count says which units the percentage counts."""
    sentence_start = max(before.rfind(";"), before.rfind(". "))
    return any(sentence_start < q.start < len(before) for q in percents)


def _number(text: str) -> int | float:
    value = float(text.replace(",", "."))
    return int(value) if value.is_integer() else value


def _qualifier(before: str) -> str | None:
    clause = re.split(r"[,;:]", before)[-1]
    if m := _QUALIFIER.search(clause):
        return "<=" if re.fullmatch(_AT_MOST, m.group(1)) else ">="
    return None


def _carried(gap: str, comparator: str | None) -> str | None:
    """ "tối thiểu 55% học sinh lớp 5, 65% học sinh lớp 9 và 75% …": a qualifier holds for the
    rest of an enumeration of subjects, up to its predicate."""
    if comparator and not re.search(r"[;.]", gap) and not _PREDICATE.search(gap):
        return comparator
    return None


def _open_ended(after: str) -> str:
    """ "95% học sinh trở lên": "trở lên" within a few words of the quantity."""
    return ">=" if re.match(r"(?:\s+[a-z]+){0,3}\s+tro len\b", after) else "="


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
