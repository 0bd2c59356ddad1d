"""Every problem of a content folder — templates, plans, campaigns, units — as
"file:line: message"."""

from __future__ import annotations

from pathlib import Path


class NotContent(Exception):
    """The folder holds none of templates/, plans/, campaigns/."""


def check_content(folder: Path) -> list[str]:
    from content.blackouts import FILE, check_blackouts
    from content.campaign import check_campaigns
    from content.plans import check_plans
    from content.templates import Templates
    from content.units import check_units, unknown_unit_references

    parts = {name: (folder / name).is_dir() for name in ("templates", "plans", "campaigns")}
    if not any(parts.values()):
        raise NotContent(f"{folder}: not a content folder (no templates/ or plans/ inside)")
    problems = Templates(folder / "templates").check() if parts["templates"] else []
    if parts["plans"]:
        problems += check_plans(folder / "plans")
    problems += check_units(folder)
    if parts["campaigns"]:
        problems += check_campaigns(folder)
    problems += unknown_unit_references(folder)
    if (folder / FILE).is_file():
        problems += check_blackouts(folder)
    return problems
