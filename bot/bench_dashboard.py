"""`loa bench dashboard`: the dashboard's overview and school pages at a province's size — the
report benchmark's data (200 schools, ~1,000,000 deliveries and taps, bot/bench_report.py) —
fetched over HTTP by a signed-in official, one request at a time, each page timed end to end
(p50/p95 in ms after a few warm-up requests). The first request of a period computes its figures
(`first_ms`, the cold cost); later ones use them, recomputed in the background once a minute
(bot/web/admin/snapshots.py)."""

from __future__ import annotations

import resource
import statistics
import time
from typing import Any

import aiohttp
from aiohttp import web

from bot import bench_report
from bot.bench import _database
from bot.config import DEFAULT_CONTENT_DIR
from bot.reports.period import parse_period
from bot.reports.report import Content
from bot.services import signin
from bot.storage.db import Database
from bot.storage.models import Person, Role, RoleName, utcnow
from bot.web.admin import Dashboard, admin_app
from bot.web.admin.auth import COOKIE
from content.templates import Templates

ROUNDS = 40  # requests per page
WARM = 3  # first requests, not counted: templates compile, caches fill


async def dashboard(events: int, db_url: str | None = None, rounds: int = ROUNDS) -> dict[str, Any]:
    async with _database(db_url) as db:
        await bench_report._refuse_data(db)
        shape = bench_report._shape(events)
        await bench_report._generate(db, **shape)
        made = await bench_report._events(db)
        await bench_report._settle(db)
        session_id = await _official(db)
        content = Content(
            {bench_report.PLAN.id: bench_report.PLAN}, {bench_report.CAMPAIGN: "bench"}
        )
        period = parse_period(bench_report.PERIOD)
        dash = Dashboard(
            db=db,
            content=content,
            content_dir=DEFAULT_CONTENT_DIR,
            templates=Templates(DEFAULT_CONTENT_DIR / "templates"),
        )
        app = web.Application()
        app.add_subapp("/admin", admin_app(dash))
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        port = runner.addresses[0][1]
        base = f"http://127.0.0.1:{port}/admin"
        pages = {
            "overview": f"{base}/?ky={period.label}",
            "schools": f"{base}/truong?ky={period.label}",
            "school": f"{base}/truong/s7?ky={period.label}",
        }
        times: dict[str, list[float]] = {name: [] for name in pages}
        first: dict[str, float] = {}
        errors = 0
        started = time.perf_counter()
        try:
            async with aiohttp.ClientSession(cookies={COOKIE: session_id}) as http:
                for name, url in pages.items():
                    for i in range(WARM + rounds):
                        t0 = time.perf_counter()
                        async with http.get(url) as response:
                            await response.read()
                            errors += response.status != 200
                        ms = (time.perf_counter() - t0) * 1000
                        if i == 0:
                            first[name] = ms
                        elif i >= WARM:
                            times[name].append(ms)
        finally:
            await runner.cleanup()
        seconds = time.perf_counter() - started
        database = "sqlite" if db.is_sqlite else "postgresql"
    n = sum(len(t) for t in times.values())
    return {
        "bench": "dashboard",
        "n": n,
        "seconds": round(seconds, 3),
        "per_second": round(n / seconds, 1) if seconds else None,
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        "errors": errors,
        "database": database,
        "events": made,
        **shape,
        **{f"{name}_p50_ms": round(statistics.median(t), 1) for name, t in times.items()},
        **{f"{name}_p95_ms": round(_p95(t), 1) for name, t in times.items()},
        **{f"{name}_first_ms": round(ms, 1) for name, ms in first.items()},
    }


def _p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]


async def _official(db: Database) -> str:
    """An official of the ward (unit 1), signed in: the session id its cookie carries."""
    async with db.session() as session:
        person = Person(platform="telegram", platform_user_id="bench-official",
                        display_name="Cán bộ", created_at=utcnow())  # fmt: skip
        session.add(person)
        await session.commit()
        assert person.id is not None
        session.add(Role(person_id=person.id, role=RoleName.OFFICIAL, unit_id=1))
        await session.commit()
        person_id = person.id
    return (await signin.open_session(db, person_id)).session_id
