"""Every problem of a content folder — templates, plans, campaigns — as "file:line: message"."""

from __future__ import annotations

from pathlib import Path


class NotContent(Exception):
    """The folder holds none of templates/, plans/, campaigns/."""


def check_content(folder: Path) -> list[str]:
    from content.campaign import check_campaigns
    from content.plans import check_plans
    from content.templates import Templates

    parts = {name: (folder / name).is_dir() for name in ("templates", "plans", "campaigns")}
    if not any(parts.values()):
        raise NotContent(f"{folder}: not a content folder (no templates/ or plans/ inside)")
    problems = Templates(folder / "templates").check() if parts["templates"] else []
    if parts["plans"]:
        problems += check_plans(folder / "plans")
    if parts["campaigns"]:
        problems += check_campaigns(folder)
    return problems
