"""The plan's other fields: title, issuing unit, dates, legal bases, themes, channels, reporting."""

from __future__ import annotations

import re
from datetime import date

from content.importer.document import Line, folded, under
from content.importer.vocab import CHANNEL_WORDS
from content.plans import Cadence

_UNIT = r"(?:uy ban nhan dan|ubnd)\s+(?:phuong|xa|thi tran|quan|huyen|thanh pho|tinh|thi xa)"
_MOTTO = re.compile(r"\s*(cong hoa|\bd\wc [l1i]ap|tu do|hanh phuc|so\s*:|s\d).*$")
_PLACE_DATE = re.compile(r"^([^,]{2,40}),\s*ngay\b")
_ISSUED = re.compile(r"ngay\s+(\d{1,2})\s+thang\s+(\d{1,2})\s+nam\s+(\d{4})")


def title_index(lines: list[Line]) -> int:
    for i, line in enumerate(lines):
        if re.fullmatch(r"ke hoach\.?", line.folded.strip()):
            return i
    return -1


def title(lines: list[Line]) -> str:
    i = title_index(lines)
    return lines[i + 1].text if 0 <= i < len(lines) - 1 else ""


def issuing_unit(text: str, lines: list[Line]) -> str:
    """The header's "ỦY BAN NHÂN DÂN / PHƯỜNG X" block, else the unit that "ban hành" the plan
    or closes it ("Trên đây là Kế hoạch … của UBND xã X"), named with the place line if bare."""
    head = text.splitlines()
    i = title_index(lines)
    stop = next((n for n, raw in enumerate(head) if folded(raw).strip(" #*") == "ke hoach"), 0)
    for n, raw in enumerate(head[:stop]):
        f = folded(raw).strip(" #*")
        if m := re.match(r"(uy ban nhan dan|ubnd)\b", f):
            name = _cut(raw.strip(" #*"), _MOTTO.search(f[m.end() :]), m.end())
            if not re.search(_UNIT, folded(name)) and n + 1 < len(head):
                nxt = head[n + 1].strip(" #*") or (head[n + 2] if n + 2 < len(head) else "")
                name += " " + _cut(nxt.strip(), _MOTTO.search(folded(nxt.strip())), 0)
            return " ".join(name.split())
    candidates = []
    for line in lines[i + 1 :]:
        f = line.folded
        for m in re.finditer(rf"({_UNIT})[^,.;]*?(?=\s+(?:ban hanh|xay dung) ke hoach)", f):
            candidates.append(line.text[m.start() : m.end()])
        if f.startswith("tren day la ke hoach"):
            for m in re.finditer(rf"\bcua (?:chu tich )?({_UNIT}[^,.;/]*)", f):
                candidates.append(line.text[m.start(1) : m.end(1)])
    named = [c for c in candidates if not re.fullmatch(_UNIT, folded(c).strip())]
    if named:
        return named[0].strip()
    if candidates:
        return f"{candidates[0].strip()} {place(text)}".strip()
    return ""


def _cut(raw: str, motto: re.Match[str] | None, offset: int) -> str:
    return raw[: offset + motto.start()] if motto else raw


def place(text: str) -> str:
    """ "Bắc Kạn" of the place-and-date line "Bắc Kạn, ngày … tháng … năm …"."""
    for raw in text.splitlines():
        raw = re.split(r"\s{2,}|/\S*\s", raw.strip(" #*"))[-1]  # after a header's "Số: …/KH"
        if m := _PLACE_DATE.match(folded(raw)):
            return raw[: m.end(1)]
    return ""


def issued_on(text: str) -> date | None:
    for raw in text.splitlines()[:40]:
        if m := _ISSUED.search(folded(raw)):
            day, month, year = (int(g) for g in m.groups())
            return date(year, month, day)
    return None


def issue_year(text: str) -> int | None:
    for raw in text.splitlines()[:40]:
        if m := re.search(r"ngay\b.{0,12}thang.{0,8}nam\s+(\d{4})", folded(raw)):
            return int(m.group(1))
    return None


def legal_bases(lines: list[Line]) -> list[str]:
    """Paragraphs before part I that start with "Căn cứ" or "Thực hiện", one item per ";"."""
    out: list[str] = []
    for line in lines[title_index(lines) + 1 :]:
        if line.level == 1:
            break
        if re.match(r"(can c\w{1,2}|thuc hien)\b", line.folded):
            out.extend(p.strip() for p in re.split(r";\s*", line.text) if p.strip())
    # "…; Ủy ban nhân dân phường X ban hành Kế hoạch …": the enacting clause is not a basis.
    bases = []
    for p in out:
        m = _ENACTING.search(folded(p))
        if p := p[: m.start()].strip(" ,;") if m else p:
            bases.append(p)
    return bases


_ENACTING = re.compile(
    r"(?:^|[,;]\s*)(?:chu tich )?(?:uy ban nhan dan|ubnd)\b[^,;]*(?:ban hanh|xay dung) ke hoach"
)


def period(title_text: str, lines: list[Line], year: int | None) -> tuple[int, int] | None:
    f = folded(title_text)
    if m := re.search(r"(\d{4})\s*-\s*(\d{4})", f):
        return int(m.group(1)), int(m.group(2))
    if m := re.search(r"nam (?:hoc )?(\d{4})", f):
        return int(m.group(1)), int(m.group(1))
    for line in lines:
        in_goals = under(line, "muc tieu", "chi tieu") or "muc tieu" in line.folded
        if in_goals and (m := re.search(r"giai doan (\d{4})\s*-\s*(\d{4})", line.folded)):
            return int(m.group(1)), int(m.group(2))
    return (year, year) if year else None


def themes(lines: list[Line]) -> list[str]:
    """The items of the "NỘI DUNG" part (or its "Nội dung …" sub-part): its numbered headings if
    it has some, else its list items. Without one, the "NHIỆM VỤ" part's headings."""
    for key in ("noi dung", "nhiem vu"):
        part = [ln for ln in lines if ln.headings and _part_is(ln.headings[0], key)]
        inner = [ln for ln in part if any(h.folded.startswith(key) for h in ln.headings[1:])]
        part = inner or part
        if not part:
            continue
        top = min((ln.level for ln in part if ln.is_heading), default=0)
        items = [ln for ln in part if ln.level == top] if top else [ln for ln in part]
        if items:
            return [ln.text.rstrip(".;: ") for ln in items if not ln.text.startswith("(")]
    return []


def _part_is(heading: Line, key: str) -> bool:
    return heading.level == 1 and heading.folded.startswith(key)


def channels(lines: list[Line]) -> list[str]:
    text = " ".join(ln.folded for ln in lines)
    found = [cid for pattern, cid in CHANNEL_WORDS if re.search(rf"(?<!\w)(?:{pattern})", text)]
    return list(dict.fromkeys(found))


_CADENCES = [
    (r"(?:hang|moi) thang", Cadence.monthly),
    (r"\bquy\b(?!\s*dinh)", Cadence.quarterly),
    (r"\b6 thang\b|sau thang", Cadence.half_yearly),
    (r"(?<![\d/] )\bnam\b(?!\s*(?:hoc|\d))", Cadence.yearly),
]
_AD_HOC = r"dot xuat|khi co yeu cau"


def reporting(lines: list[Line]) -> list[Cadence]:
    """Cadences named in a sentence that reports "định kỳ"/"đột xuất"."""
    found: set[Cadence] = set()
    for line in lines:
        for sentence in re.split(r"[.;]\s", re.sub(r"\([^)]*\)", "", line.folded)):
            if not re.search(r"bao cao", sentence) or not re.search(
                r"dinh ky|dot xuat|khi co yeu cau", sentence
            ):
                continue
            tail = sentence[sentence.find("bao cao") :]
            tail = re.sub(r"6 thang", "sau thang", tail)
            for pattern, cadence in _CADENCES:
                if re.search(pattern, tail):
                    found.add(cadence)
            if re.search(_AD_HOC, sentence):
                found.add(Cadence.ad_hoc)
    return [c for c in Cadence if c in found]
