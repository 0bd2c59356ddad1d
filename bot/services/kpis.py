"""A plan's targets (chỉ tiêu) measured: each target gets what was achieved in a period and a
unit, its status, and the figures behind it — or why it cannot be measured yet. No target is
ever dropped (DESIGN "The seeds' KPIs, measured")."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection

from bot.domain import Audience
from bot.services.reach import ACK, Figures, Filter, Reach, distinct_people, members
from content.plans import Plan, Target

ACTIVITY_REPORTS = "needs activity reports (/baocao)"
# Metrics that need what loa does not collect yet (issue 11).
NOT_YET = {
    "plans_built": ACTIVITY_REPORTS,
    "thematic_sessions": ACTIVITY_REPORTS,
    "exemplar_models": "needs exemplar models (/mohinh)",
}


class Status(StrEnum):
    MET = "met"
    ON_TRACK = "on_track"
    BEHIND = "behind"
    NOT_MEASURABLE = "not_measurable"


def judge(target: Target, achieved: float, elapsed: float, cumulative: bool) -> Status:
    """met when the comparator holds ("=" is reached once reached); a cumulative figure (people
    briefed so far) that is short is on track while its share of the target keeps pace with
    the time elapsed; a rate (right answers) does not grow with time, so it is met or behind."""
    if target.comparator == "<=":
        return Status.MET if achieved <= target.value else Status.BEHIND
    if achieved >= target.value:
        return Status.MET
    if cumulative and elapsed < 1 and achieved >= target.value * elapsed:
        return Status.ON_TRACK
    return Status.BEHIND


@dataclass(frozen=True)
class Kpi:
    plan: str
    target: Target
    status: Status
    achieved: float | None = None
    figures: Mapping[str, Any] = field(default_factory=dict)
    reason: str | None = None  # why not measurable

    def as_dict(self) -> dict[str, Any]:
        return {
            "plan": self.plan,
            "metric": self.target.metric,
            "description": self.target.description,
            "target": {
                "comparator": self.target.comparator,
                "value": self.target.value,
                "unit": self.target.unit,
                "audience": self.target.audience,
                "per": self.target.per,
                "by": self.target.by.isoformat() if self.target.by else None,
            },
            "achieved": self.achieved,
            "status": self.status.value,
            "figures": dict(self.figures),
            "reason": self.reason,
        }


@dataclass(frozen=True)
class Scope:
    """What a plan's KPIs are measured over: the report's reach (every occurrence of the
    period in the unit), the plan's campaigns and the report's filter."""

    reach: Reach
    campaigns: Collection[str]
    filter: Filter
    now: datetime


async def evaluate(conn: AsyncConnection, plan: Plan, scope: Scope) -> list[Kpi]:
    out: list[Kpi] = []
    for target in plan.targets:
        if target.metric == "briefed":
            out.append(await _briefed(conn, plan, target, scope))
        elif target.metric == "understood":
            out.append(_understood(plan, target, scope))
        else:
            reason = NOT_YET.get(target.metric, f"no measure for metric {target.metric!r} yet")
            out.append(Kpi(plan.id, target, Status.NOT_MEASURABLE, reason=reason))
    return out


async def _briefed(conn: AsyncConnection, plan: Plan, target: Target, scope: Scope) -> Kpi:
    """People of the audience (staff by default) who acknowledged any of the plan's posts in
    the period / people in the audience's groups of the unit."""
    audience = (target.audience or Audience.staff).value
    f = Filter(scope.filter.period, scope.campaigns, scope.filter.units, audience)
    acknowledged = sum((await distinct_people(conn, f, ACK)).values())
    registered = sum((await members(conn, f)).values())
    figures = {"audience": audience, "acknowledged": acknowledged, "registered": registered}
    if not registered:
        reason = f"no {audience} groups bound in the unit"
        return Kpi(plan.id, target, Status.NOT_MEASURABLE, figures=figures, reason=reason)
    achieved = _measure(target, acknowledged, registered)
    status = judge(target, achieved, scope.filter.period.elapsed(scope.now), cumulative=True)
    return Kpi(plan.id, target, status, achieved, figures)


def _understood(plan: Plan, target: Target, scope: Scope) -> Kpi:
    """Right answers / answers on the plan's quiz posts, per audience; a target without an
    audience is measured for each audience that answered and is met only if each one is."""
    wanted = set(scope.campaigns)
    by_audience = scope.reach.by_post_audience(
        lambda post, audience: audience if post.campaign in wanted else None
    )
    if target.audience is not None:
        by_audience = {target.audience.value: by_audience.get(target.audience.value, Figures())}
    answered = {a: f for a, f in by_audience.items() if a is not None and f.answered}
    figures = {
        a: {"answered": f.answered, "understood": f.understood} for a, f in sorted(answered.items())
    }
    if not answered:
        reason = "no answers to the plan's quiz posts in the period"
        return Kpi(plan.id, target, Status.NOT_MEASURABLE, figures=figures, reason=reason)
    elapsed = scope.filter.period.elapsed(scope.now)
    statuses = [
        judge(target, _measure(target, f.understood, f.answered), elapsed, cumulative=False)
        for f in answered.values()
    ]
    total = sum(answered.values(), Figures())
    achieved = _measure(target, total.understood, total.answered)
    worst = max(statuses, key=[Status.MET, Status.ON_TRACK, Status.BEHIND].index)
    return Kpi(plan.id, target, worst, achieved, figures)


def _measure(target: Target, part: int, whole: int) -> float:
    return round(100 * part / whole, 1) if target.unit == "percent" else float(part)
