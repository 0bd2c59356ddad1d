"""Quantities in a folded target sentence: percentages, counts, and the comparator each has.

A count is taken when it is qualified ("ít nhất 02", "ít nhất hai"), zero-padded ("02", as
documents write counts), given per period ("/năm", "mỗi năm") or the subject of the clause
("470 trường học đạt …"); never when it is an age, a duration, a rank, a date or a document's
number ("6 tuổi", "05 năm", "lớp 5", "mức độ 3", "ngày 09", "Nghị định số 75").
"""

from __future__ import annotations

import re
from dataclasses import dataclass

AT_LEAST = r"it nhat|toi thieu|khong duoi|khong it hon|dat tu|tu|tren|hon"
AT_MOST = r"toi da|khong qua|khong vuot qua|duoi"
# "ít nhất là 260", "ít nhất mỗi vùng (đồng bằng, miền núi) một mô hình"
_EACH = r"(?: la| moi [a-z]+(?: [a-z]+)?(?: \([^)]*\))?)?"
_QUALIFIER = re.compile(rf"(?:^|\s)({AT_LEAST}|{AT_MOST}){_EACH}\s*$")
_DECIMAL = r"\d{1,3}(?:[.,]\d{1,2})?"  # "99,5"; Vietnamese writes decimals with a comma
_PERCENT = re.compile(rf"(?<![\d/.,])({_DECIMAL})\s*%")
# "từ 70% đến 80%", "từ 5 - 10%", "8,3 - 8,5%": a lower and an upper bound.
_PERCENT_RANGE = re.compile(
    rf"(?<![\d/.,])(?:tu )?({_DECIMAL})\s*%?\s*(?:-|–|den)\s*(?:duoi |tren )?({_DECIMAL})\s*%"
)
# "02", "470", "150.000", "300 triệu"; followed by a word or the clause's end.
_COUNT = re.compile(
    r"(?<![\w/.,-])(\d{1,3}(?:\.\d{3})+|\d{1,3})(?: (trieu|nghin|ngan))?"
    r"(?![.,]\d)(?=\s+[a-z]|\s*[,;.]|\s*$)"
)
_COUNT_RANGE = re.compile(r"(?:-|–|den)\s*(?:duoi |tren )?\d{1,3}(?=\s+[a-z])")
_WORD_COUNT = re.compile(
    rf"(?:it nhat|toi thieu|khong duoi|khong it hon){_EACH} "
    r"(mot|hai|ba|bon|nam|sau|bay|tam|chin|muoi)"
    r"(?= [a-z])"
)
_WORD_NUMBERS = ["mot", "hai", "ba", "bon", "nam", "sau", "bay", "tam", "chin", "muoi"]
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
_PER_PERIOD = re.compile(
    r"[^,;.]{0,40}?(?:/\s*(?:nam|quy|thang)|\b(?:moi|hang) (?:nam|quy|thang)\b)"
)
_SUBJECT_OF_TARGET = re.compile(r"[^,;.]{0,80}?\b(?:dat|duoc)\b")
_CLAUSE_START = re.compile(r"(?:^|[,;:(]|\bphan dau|\bco)\s*$")
_PREDICATE = re.compile(
    r"\b(?:dat|duoc|co|se|la|biet|tang|giam|xay dung|trien khai|to chuc|tham gia|hieu)\b"
)


@dataclass(frozen=True)
class Quantity:
    start: int
    end: int
    value: int | float
    unit: str
    bound: str | None = None  # the comparator a range gives its ends


def quantities(text: str) -> list[Quantity]:
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
        if _COUNT_RANGE.match(rest.lstrip()):
            continue  # "từ 2 đến 3 …" between counts: rare in targets, often ages
        qualified = _QUALIFIER.search(before) is not None
        padded = len(m.group(1)) >= 2 and m.group(1).startswith("0")
        per_period = _PER_PERIOD.match(rest) is not None
        subject = _CLAUSE_START.search(before) is not None and _SUBJECT_OF_TARGET.match(rest)
        if qualified or padded or per_period or subject:
            value = int(m.group(1).replace(".", "")) * _MULTIPLIERS.get(m.group(2) or "", 1)
            counts.append(Quantity(m.start(), m.end(), value, "count"))
    return counts


def _condition_of_percent(before: str, percents: list[Quantity]) -> bool:
    """ "50% xã … sở hữu ít nhất một bể bơi": the count says which units the percentage counts."""
    sentence_start = max(before.rfind(";"), before.rfind(". "))
    return any(sentence_start < q.start < len(before) for q in percents)


def _number(text: str) -> int | float:
    value = float(text.replace(",", "."))
    return int(value) if value.is_integer() else value


def qualifier(before: str) -> str | None:
    clause = re.split(r"[,;:]", re.sub(r"\([^)]*\)", "", before))[-1]  # asides don't end it
    if m := _QUALIFIER.search(clause):
        return "<=" if re.fullmatch(AT_MOST, m.group(1)) else ">="
    return None


def carried(gap: str, comparator: str | None) -> str | None:
    """ "tối thiểu 55% học sinh lớp 5, 65% học sinh lớp 9 và 75% …": a qualifier holds for the
    rest of an enumeration of subjects, up to its predicate."""
    if comparator and not re.search(r"[;.]", gap) and not _PREDICATE.search(gap):
        return comparator
    return None


def open_ended(after: str) -> str:
    """ "95% học sinh trở lên": "trở lên" within a few words of the quantity."""
    return ">=" if re.match(r"(?:\s+[a-z]+){0,3}\s+tro len\b", after) else "="
