"""The report of a period (`loa report --format json`; shape in docs/reports.md): totals, reach
by school, audience, platform and post, each plan's KPI table, the activities schools reported,
the models approved, and what people said (bot/reports/voices.py)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection

from bot.domain import UnitKind
from bot.reports.period import Period
from bot.reports.voices import feedback_themes, open_questions
from bot.services import activities
from bot.services.kpis import Scope, evaluate
from bot.services.reach import Figures, Filter, UnitTree, audience_unknown, reach, unit_tree
from bot.storage.db import Database
from bot.storage.models import utcnow
from content.campaign.check import load_campaigns, load_plans
from content.plans import Plan

NO_DATA = "no posts went to this unit's chats in this period: every figure is zero"
AUDIENCE_FROM_REPLIES = (
    "some chats are on a platform that does not tell how many people are in a chat (Zalo Bot):"
    " their audience is not counted, and their reach is the people who replied"
)


class ReportError(ValueError):
    """An unknown unit or plan: one line for the operator."""


@dataclass(frozen=True)
class Content:
    """What the report measures against: the plans, and which plan each campaign serves."""

    plans: Mapping[str, Plan]
    plan_of: Mapping[str, str]  # campaign id → plan id

    def campaigns(self, plan: str) -> list[str]:
        return sorted(c for c, p in self.plan_of.items() if p == plan)


def load_content(folder: Path) -> Content:
    """The plans and campaigns of a content folder (those that load: `loa content check`
    reports the others)."""
    loaded, _ = load_campaigns(folder)
    return Content(load_plans(folder), {c.campaign.id: c.campaign.plan for c in loaded})


async def build_report(
    db: Database,
    period: Period,
    content: Content,
    unit: str | None = None,
    plan: str | None = None,
    now: datetime | None = None,
) -> dict[str, Any]:
    if plan is not None and plan not in content.plans:
        raise ReportError(f"unknown plan {plan!r} (see plans/*.yaml)")
    plans = [content.plans[plan]] if plan else [content.plans[p] for p in sorted(content.plans)]
    async with db.reading() as conn:
        tree = await unit_tree(conn)
        root = _unit_named(tree, unit)
        scope = _subtree(tree, root) if root is not None else None
        campaigns = content.campaigns(plan) if plan else None
        f = Filter(period, campaigns, units=scope)
        found = await reach(conn, f)
        now = now or utcnow()
        kpis = await _kpis(conn, plans, content, found, f, now)
        held = await activities.held(conn, period, scope, plan)
        models = await activities.approved(conn, period, scope)
        feedback = await feedback_themes(conn, f)
        questions = await open_questions(conn, f, now)
    total = found.total()
    sent_posts = found.sent_posts()
    schools = found.by_place(lambda p: tree.of_kind(p.unit, UnitKind.school))
    return {
        "period": {
            "label": period.label,
            "from": period.first.isoformat(),
            "to": period.last.isoformat(),
        },
        "unit": _unit_entry(tree, root) if root is not None else None,
        "plan": plan,
        "totals": {"posts": len(sent_posts), **total.as_dict()},
        "kpis": kpis,
        "by_school": [
            {**_unit_entry(tree, school), **figures.as_dict()}
            for school, figures in sorted(schools.items(), key=lambda s: tree.units[s[0]].name)
        ],
        "by_audience": _rows(found.by_place(lambda p: p.audience or "")),
        "by_platform": _rows(found.by_place(lambda p: p.platform)),
        "by_month": _rows(found.by_month(period.tz)),
        "posts": _posts(
            found.by_post(), {p.source or p.key: p.title for p in found.posts.values()}
        ),
        "activities": held,
        "models": models,
        "feedback": feedback,
        "open_questions": questions,
        "notes": _notes(sent_posts, audience_unknown(found)),
    }


def _notes(sent_posts: Any, uncounted: bool) -> list[str]:
    notes = [] if sent_posts else [NO_DATA]
    if uncounted:
        notes.append(AUDIENCE_FROM_REPLIES)
    return notes


async def _kpis(
    conn: AsyncConnection,
    plans: Sequence[Plan],
    content: Content,
    found: Any,
    f: Filter,
    now: datetime,
) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for p in plans:
        kpis = await evaluate(conn, p, Scope(found, content.campaigns(p.id), f, now))
        out.extend(k.as_dict() for k in kpis)
    return out


def _unit_named(tree: UnitTree, code: str | None) -> int | None:
    if code is None:
        return None
    found = next((int(u.id) for u in tree.units.values() if u.code == code), None)
    if found is None:
        raise ReportError(f"unknown unit {code!r} (see units.yaml)")
    return found


def _subtree(tree: UnitTree, root: int) -> set[int]:
    return {u for u in tree.units if root in tree.chain(u)}


def _unit_entry(tree: UnitTree, unit: int) -> dict[str, Any]:
    row = tree.units[unit]
    return {"code": row.code, "name": row.name, "kind": row.kind}


def _rows(figures: Mapping[str, Figures]) -> list[dict[str, Any]]:
    return [{"name": key, **f.as_dict()} for key, f in sorted(figures.items())]


def _posts(figures: Mapping[str, Figures], titles: Mapping[str, str]) -> list[dict[str, Any]]:
    return [
        {"post": post, "title": titles[post], **f.as_dict()} for post, f in sorted(figures.items())
    ]
