"""A plan document as logical lines: markdown stripped, broken lines re-joined, headings ranked.

Vietnamese administrative documents number their parts "I." (roman), "1.", "1.1.", "a)" and list
items with "-" or "+". Converted and OCR'd copies break sentences over lines (and blank lines);
a line is glued to the previous one when that one did not end a sentence and this one reads as
its continuation.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path

from bot.text import fold


class UnsupportedDocument(Exception):
    pass


def read_document(path: Path) -> str:
    suffix = path.suffix.lower()
    if suffix in (".md", ".txt"):
        return unicodedata.normalize("NFC", path.read_text(encoding="utf-8", errors="replace"))
    if suffix == ".docx":
        return unicodedata.normalize("NFC", _docx_text(path))
    raise UnsupportedDocument(f"unsupported document type {suffix!r} (use .md, .txt or .docx)")


def _docx_text(path: Path) -> str:
    """The paragraphs of a Word document, tables' cells included, one per line."""
    import docx  # only plan import needs it
    from docx.opc.exceptions import PackageNotFoundError

    try:
        document = docx.Document(str(path))
    except (PackageNotFoundError, KeyError, ValueError) as e:
        raise UnsupportedDocument(f"{path}: not a readable .docx file ({e})") from None
    lines = [p.text for p in document.paragraphs]
    for table in document.tables:
        for row in table.rows:
            lines.extend(cell.text for cell in row.cells)
    return "\n".join(lines)


def folded(text: str) -> str:
    """`fold`, character by character, so that folded[i] lines up with text[i]."""
    out = []
    for c in text:
        f = fold(c)
        out.append(f if len(f) == 1 else c)
    return "".join(out)


_ROMAN = re.compile(r"^([IVXL][IVXL1l]*)\.\s*(?=\S)")
_NUMBER = re.compile(r"^(\d{1,2}(?:\.\d{1,2})*)[.)]\s*(?=\S)")
_ALPHA = re.compile(r"^([a-zđ])\)\s*(?=\S)")
_BULLET = re.compile(r"^([-+•–])\s*(?=\S)")
_MD_HEADING = re.compile(r"^#+\s*")
_CLOSING = re.compile(r"(tren day la|noi nhan)\b")
_SENTENCE_END = re.compile(r"[.;:!?…]$")


@dataclass
class Line:
    text: str  # without markdown and numbering marker
    raw: str  # as read, markdown stripped
    level: int  # 1 roman, 2 "1.", 3 "1.1.", 4 "a)", 5 "-", 6 "+", 9 plain text
    number: str = ""
    headings: list[Line] = field(default_factory=list)  # enclosing headings, outermost first

    @property
    def folded(self) -> str:
        return folded(self.text)

    @property
    def is_heading(self) -> bool:
        return self.level <= 4


def _strip_markdown(line: str) -> tuple[str, bool]:
    hard = bool(_MD_HEADING.match(line)) or line.startswith("**")
    line = _MD_HEADING.sub("", line).replace("*", "").replace("\\", "")
    return " ".join(line.split()), hard


def _all_caps(text: str) -> bool:
    letters = [c for c in text if c.isalpha()]
    return len(letters) >= 4 and sum(c.isupper() for c in letters) >= 0.9 * len(letters)


def _starts_item(text: str) -> bool:
    return bool(_ROMAN.match(text) or _NUMBER.match(text) or _BULLET.match(text)) or bool(
        _ALPHA.match(text)
    )


def _continues(prev: str, prev_hard: bool, cur: str, adjacent: bool) -> bool:
    if prev_hard or _starts_item(cur) or _all_caps(cur) or _all_caps(prev):
        return False
    if re.search(r"\w-$", prev):
        return True
    first = cur[0]
    if re.search(r"[;,]$", prev) and first.islower():  # an enumeration going on
        return True
    if _SENTENCE_END.search(prev):
        return False
    return first.islower() or first.isdigit() or adjacent


def logical_lines(text: str) -> list[str]:
    out: list[str] = []
    hard_prev = True
    blank = True
    for raw in text.splitlines():
        line, hard = _strip_markdown(raw)
        if not line:
            blank = True
            continue
        if out and not hard and _continues(out[-1], hard_prev, line, adjacent=not blank):
            glue = "" if re.search(r"\w-$", out[-1]) else " "
            out[-1] = out[-1] + glue + line
        else:
            out.append(line)
            hard_prev = hard
        blank = False
    return out


def _rank(text: str) -> tuple[int, str, str]:
    if m := _ROMAN.match(text):
        return 1, m.group(1), text[m.end() :]
    if m := _NUMBER.match(text):
        return 1 + m.group(1).count(".") + 1, m.group(1), text[m.end() :]
    if m := _ALPHA.match(text):
        return 4, m.group(1), text[m.end() :]
    if m := _BULLET.match(text):
        return (6 if m.group(1) == "+" else 5), "", text[m.end() :]
    return 9, "", text


def parse(text: str) -> list[Line]:
    lines: list[Line] = []
    stack: list[Line] = []
    closed = False
    for raw in logical_lines(text):
        level, number, body = _rank(raw)
        line = Line(text=body.strip(), raw=raw, level=level, number=number)
        # The closing ("Trên đây là Kế hoạch…", "…thực hiện./.", "Nơi nhận:") ends all parts.
        closed = closed or bool(_CLOSING.match(folded(raw))) or raw.endswith("./.")
        if closed:
            lines.append(line)
            continue
        while stack and stack[-1].level >= level:
            stack.pop()
        line.headings = list(stack)
        if line.is_heading:
            stack.append(line)
        lines.append(line)
    return lines


def under(line: Line, *keys: str) -> bool:
    """Whether one of the headings enclosing `line` contains one of the folded `keys`."""
    return any(k in h.folded for h in line.headings for k in keys)
