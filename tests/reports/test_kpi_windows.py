"""What a KPI counts: the plan's own activity reports, and for a yearly target everything from
1 January to the period's end, judged against the share of the year passed."""

from __future__ import annotations

from datetime import date

from bot.bench_report import PLAN
from bot.reports.period import parse_period
from bot.reports.report import build_report
from bot.storage.models import ActivityReport
from tests.chatworld import World
from tests.reports.test_reach_end_to_end import CONTENT


async def _reported(w: World, school: str, plan: str, day: date) -> None:
    async with w.db.session() as session:
        unit = await w.unit(school)
        session.add(
            ActivityReport(unit_id=unit, kind="plan", plan=plan, held_on=day, status="sent")
        )
        await session.commit()


async def test_a_yearly_target_counts_the_year_so_far(any_world: World) -> None:
    await _reported(any_world, "th-a", PLAN.id, date(2026, 2, 10))  # built its plan in Q1
    await _reported(any_world, "th-b", "another_plan", date(2026, 8, 10))

    kpis = {}
    for label in ("2026-Q1", "2026-Q3"):
        period = parse_period(label)
        report = await build_report(any_world.db, period, CONTENT, now=period.end)
        kpis[label] = next(k for k in report["kpis"] if k["metric"] == "plans_built")

    q1, q3 = kpis["2026-Q1"], kpis["2026-Q3"]
    assert q3["figures"]["by_school"] == {"th-a": 1, "th-b": 0}, "Q1's report still counts in Q3"
    assert (q3["figures"]["from"], q3["figures"]["to"]) == ("2026-01-01", "2026-09-30")
    assert (q1["achieved"], q3["achieved"]) == (50.0, 50.0), "another plan's report never counts"
    assert (q1["status"], q3["status"]) == ("on_track", "behind"), (
        "50% of schools by March is on track for 100% a year; by September it is not"
    )
