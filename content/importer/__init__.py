"""Draft a Plan YAML from a plan document (`loa plan import`), for a human to finish.

Fields the rules could not find are left empty with a "# TODO" comment: the draft never guesses.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml

from bot.domain import Audience
from bot.text import fold
from content.importer import fields
from content.importer.document import Line, UnsupportedDocument, parse, read_document
from content.importer.duties import extract_duties
from content.importer.targets import audiences_in, extract_targets
from content.importer.vocab import is_ocr

__all__ = ["UnsupportedDocument", "draft_plan", "import_plan", "render"]

_ORDER = [
    "id",
    "title",
    "issuing_unit",
    "issued_on",
    "legal_bases",
    "period",
    "targets",
    "themes",
    "audiences",
    "channels",
    "duties",
    "reporting",
]


def draft_plan(text: str, plan_id: str) -> dict[str, Any]:
    lines = parse(text)
    title = fields.title(lines)
    span = fields.period(title, lines, fields.issue_year(text))
    ocr = is_ocr(text)
    targets = extract_targets(lines, ocr)
    audiences = _audiences(targets, lines, ocr)
    return {
        "id": plan_id,
        "title": title,
        "issuing_unit": fields.issuing_unit(text, lines),
        "issued_on": fields.issued_on(text),
        "legal_bases": fields.legal_bases(lines),
        "period": {"start": span[0], "end": span[1]} if span else None,
        "targets": [
            {k: str(v) if isinstance(v, Audience) else v for k, v in t.items() if v is not None}
            for t in targets
        ],
        "themes": fields.themes(lines),
        "audiences": audiences,
        "channels": fields.channels(lines),
        "duties": extract_duties(lines, ocr),
        "reporting": [str(c) for c in fields.reporting(lines)],
    }


# "nhóm đối tượng (cán bộ quản lý, giáo viên, …)", "nâng cao nhận thức, trách nhiệm của …"
_AUDIENCE_LISTS = re.compile(
    r"doi tuong\s*\(([^)]*)\)"
    r"|nang cao nhan th\w+(?:, trach nhiem)? (?:cua|cho) ([^.;]*?)(?: ve |[.;]|$)"
)


def _audiences(targets: list[dict[str, Any]], lines: list[Line], ocr: bool) -> list[str]:
    """Everyone the targets name, and the groups listed as "đối tượng (…)"."""
    found: set[Audience] = set()
    for target in targets:
        found |= target.pop("audiences")
    for line in lines:
        for m in _AUDIENCE_LISTS.finditer(line.folded):
            found |= audiences_in(m.group(1) or m.group(2), ocr)
    return [str(a) for a in Audience if a in found]


def render(draft: dict[str, Any], source: str) -> str:
    out = [f"# Drafted by `loa plan import` from {source}: review every field before use."]
    for key in _ORDER:
        value = draft[key]
        if value in (None, "", []):
            empty = "[]" if isinstance(value, list) else ('""' if value == "" else "null")
            out.append(f"{key}: {empty}  # TODO: not found in the document")
            continue
        if key == "issued_on" and value is None:
            continue
        out.append(_dump({key: value}).rstrip("\n"))
    return "\n".join(out) + "\n"


def _dump(data: dict[str, Any]) -> str:
    text = yaml.safe_dump(data, allow_unicode=True, sort_keys=False, width=100)
    assert isinstance(text, str)
    return text


def plan_id(path: Path) -> str:
    slug = re.sub(r"[^a-z0-9]+", "_", fold(path.stem)).strip("_")
    return slug if slug[:1].isalpha() else f"plan_{slug}"


def import_plan(path: Path) -> str:
    """The YAML draft of the plan document at `path`."""
    return render(draft_plan(read_document(path), plan_id(path)), path.name)
