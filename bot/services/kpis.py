"""A plan's targets (chỉ tiêu) measured: each target gets what was achieved in a period and a
unit, its status, and the figures behind it — or why it cannot be measured yet. No target is
ever dropped (DESIGN "The seeds' KPIs, measured")."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection

from bot.domain import Audience
from bot.reports.period import Period, parse_period
from bot.services import activities
from bot.services.reach import ACK, Figures, Filter, Reach, distinct_people, members
from content.plans import Plan, Target

# loa keeps no staff list: the people "registered" are the members of the audience's groups
# now, so one person in two staff groups counts twice and one in none is missed.
REGISTERED_ESTIMATE = "registered: member counts of the audience's active groups, not a staff list"


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
    estimate: str | None = None  # which figure is estimated, and from what

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
            "estimate": self.estimate,
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
        elif target.metric == "thematic_sessions":
            out.append(await _thematic_sessions(conn, plan, target, scope))
        elif target.metric in ("plans_built", "exemplar_models"):
            out.append(await _per_school(conn, plan, target, scope))
        else:
            reason = f"no measure for metric {target.metric!r} yet"
            out.append(Kpi(plan.id, target, Status.NOT_MEASURABLE, reason=reason))
    return out


async def _briefed(conn: AsyncConnection, plan: Plan, target: Target, scope: Scope) -> Kpi:
    """People of the audience (staff by default) who acknowledged any of the plan's posts in
    the period / people in the audience's groups of the unit."""
    audience = (target.audience or Audience.staff).value
    f = Filter(scope.filter.period, scope.campaigns, units=scope.filter.units, audience=audience)
    acked, counted = await distinct_people(conn, f, ACK), await members(conn, f)
    acknowledged, registered = sum(acked.values()), sum(counted.values())
    codes = await activities.unit_codes(conn, {u for u in (*acked, *counted) if u is not None})
    by_unit = {
        codes[u]: {"acknowledged": acked.get(u, 0), "registered": n}
        for u, n in sorted(counted.items(), key=lambda c: codes.get(c[0] or 0, ""))
        if u in codes
    }
    figures = {"audience": audience, "acknowledged": acknowledged, "registered": registered,
               "by_unit": by_unit}  # fmt: skip
    if not registered:
        reason = f"no {audience} groups bound in the unit"
        return Kpi(plan.id, target, Status.NOT_MEASURABLE, figures=figures, reason=reason)
    achieved = _measure(target, acknowledged, registered)
    status = judge(target, achieved, scope.filter.period.elapsed(scope.now), cumulative=True)
    return Kpi(plan.id, target, status, achieved, figures, estimate=REGISTERED_ESTIMATE)


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


async def _thematic_sessions(
    conn: AsyncConnection, plan: Plan, target: Target, scope: Scope
) -> Kpi:
    """The plan's thematic sessions held in the window, reported with /baocao by the unit's
    schools (or its ward), per reporting unit."""
    window, elapsed = _window(target, scope)
    kind = activities.THEMATIC
    by_unit = await activities.reports_by_unit(conn, kind, window, scope.filter.units, plan.id)
    codes = await activities.unit_codes(conn, by_unit)
    sessions = sum(by_unit.values())
    figures = {"sessions": sessions, "by_unit": _by_code(by_unit, codes), **_dates(window)}
    achieved = float(sessions)
    status = judge(target, achieved, elapsed, cumulative=True)
    return Kpi(plan.id, target, status, achieved, figures)


async def _per_school(conn: AsyncConnection, plan: Plan, target: Target, scope: Scope) -> Kpi:
    """plans_built: schools that reported (/baocao) building this plan in the window / schools;
    exemplar_models: the fewest models any school had approved (/mohinh) in the window, so
    "≥ 1 per school" is met once every school has one."""
    schools = await activities.school_codes(conn, scope.filter.units)
    if not schools:
        reason = "no schools in the unit"
        return Kpi(plan.id, target, Status.NOT_MEASURABLE, reason=reason)
    window, elapsed = _window(target, scope)
    if target.metric == "plans_built":
        kind = activities.PLAN
        counted = await activities.reports_by_unit(conn, kind, window, schools, plan.id)
    else:
        counted = await activities.approved_by_unit(conn, window, schools)
    done = sorted(code for unit, code in schools.items() if counted[unit])
    missing = sorted(code for unit, code in schools.items() if not counted[unit])
    figures = {
        "schools": len(schools),
        "with": len(done),
        "by_school": {code: counted[unit] for unit, code in sorted(schools.items())},
        "missing": missing,
        **_dates(window),
    }
    if target.unit == "percent":
        achieved = _measure(target, len(done), len(schools))
    else:
        achieved = float(min(counted[unit] for unit in schools))
    status = judge(target, achieved, elapsed, cumulative=True)
    return Kpi(plan.id, target, status, achieved, figures)


def _window(target: Target, scope: Scope) -> tuple[Period, float]:
    """What a count is taken over, and how much of its target's time has passed: a yearly
    target ("≥ 2 sessions a year") counts from 1 January to the period's end, as much of the
    year as has passed by then; any other, the report's period."""
    period = scope.filter.period
    if target.per != "year" or period.first.year != period.last.year:
        return period, period.elapsed(scope.now)
    year = parse_period(str(period.last.year), period.tz)
    window = replace(period, label=f"{year.label}..{period.label}", first=year.first,
                     start=year.start)  # fmt: skip
    return window, year.elapsed(min(scope.now, period.end))


def _dates(window: Period) -> dict[str, str]:
    return {"from": window.first.isoformat(), "to": window.last.isoformat()}


def _by_code(counts: Mapping[int, int], codes: Mapping[int, str]) -> dict[str, int]:
    return {codes.get(unit, str(unit)): n for unit, n in sorted(counts.items())}


def _measure(target: Target, part: int, whole: int) -> float:
    return round(100 * part / whole, 1) if target.unit == "percent" else float(part)
