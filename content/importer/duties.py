"""Duties ("06 rõ"): under "TỔ CHỨC THỰC HIỆN", each heading naming a unit owns the items below."""

from __future__ import annotations

import re
from datetime import date
from typing import Any

from content.importer.document import Line, folded
from content.importer.vocab import find_fuzzy

_UNIT_WORDS = [
    "phong", "trung tam", "truong", "co so giao duc", "don vi", "uy ban", "ubnd", "to dan pho",
    "mat tran", "doan", "hoi", "ban", "cong an", "tram y te", "cac so", "nganh",
]  # fmt: skip
_DEADLINE = re.compile(
    r"(?:truoc|cham nhat|han|thoi (?:gian|han)[^0-9]{0,20})\D{0,8}(\d{1,2})/(\d{1,2})/(\d{4})"
)
_COLLABORATE = re.compile(
    r"phoi hop (?:chat che )?voi (.+?)(?=[;.:]|\s(?:to chuc thuc hien|trien khai|trong|de|"
    r"thuc hien|xay dung|tham muu)\s|$)"
)
_DETAIL = re.compile(r"(ket qua|san pham|thoi gian|thoi han|han)[^:]{0,20}:")
_AUTHORITY = r"(?:theo|co|thuoc|vuot) tham quyen"
_RESULT = re.compile(r"(?:ket qua|san pham)(?: dat duoc| can dat)?\s*:\s*(.+)$")


def _is_unit(heading: Line, ocr: bool) -> bool:
    return any(find_fuzzy(words, heading.folded, ocr) >= 0 for words in _UNIT_WORDS)


def _owner(heading: Line) -> str:
    text = heading.text
    if m := re.match(r"[dp]e nghi\s+", folded(text)):  # "Đề nghị", OCR'd "Pé nghi"
        text = text[m.end() :]
    return text.strip(" :")


def extract_duties(lines: list[Line], ocr: bool = False) -> list[dict[str, Any]]:
    duties: list[dict[str, Any]] = []
    for line in lines:
        part = line.headings[:1]
        if not part or "to chuc thuc hien" not in part[0].folded or line.is_heading:
            continue
        units = [h for h in line.headings[1:] if _is_unit(h, ocr)]
        if not units:
            continue
        if duties and duties[-1]["owner"] == _owner(units[-1]):
            if line.level == 6:  # "+" sub-items belong to the item above
                duties[-1]["what"] += " " + line.raw
                continue
            if _DETAIL.match(line.folded):  # "Kết quả: …", "Thời hạn: …" under the item
                duties[-1] = _task(duties[-1], line)
                continue
        duties.append(_task({"owner": _owner(units[-1]), "what": line.text}, line))
    return duties


def _task(task: dict[str, Any], line: Line) -> dict[str, Any]:
    f = line.folded
    task = dict(task)
    if m := _DEADLINE.search(f):
        day, month, year = (int(g) for g in m.groups())
        task["deadline"] = date(year, month, day)
    if m := _RESULT.search(f):
        task["result"] = line.text[m.start(1) : m.end(1)].strip()
    if re.search(_AUTHORITY, f):
        clause = next(c for c in re.split(r";", line.text) if re.search(_AUTHORITY, folded(c)))
        task["authority"] = clause.strip(" .")
    collaborators = [line.text[m.start(1) : m.end(1)].strip(" ,") for m in _COLLABORATE.finditer(f)]
    if collaborators:
        task["collaborators"] = task.get("collaborators", []) + collaborators
    return task
