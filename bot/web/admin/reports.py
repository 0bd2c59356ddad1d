"""/admin/baocao: pick a period and a unit, download the report as DOCX, XLSX or JSON — the
file `loa report` writes (bot.reports.files), over a unit the viewer sees."""

from __future__ import annotations

import asyncio
import tempfile
from pathlib import Path

from aiohttp import web
from sqlmodel import col, select

from bot.reports.files import FORMATS, MEDIA_TYPES, make_report, write_report
from bot.reports.period import PeriodError, parse_period
from bot.services.units import tops
from bot.storage.models import Unit
from bot.web.admin.deps import Viewer, dashboard, viewer
from bot.web.admin.figures import period_of
from bot.web.admin.pages import page

KINDS = ("ward", "school")  # what a report is filed for


async def _units(request: web.Request, who: Viewer) -> list[Unit]:
    """The viewer's top unit(s) first, then the schools under them."""
    async with dashboard(request).db.read_session() as session:
        top = await tops(session, set(who.scope))
        query = select(Unit).where(
            col(Unit.id).in_(who.scope), col(Unit.kind).in_(KINDS), col(Unit.active)
        )
        found = sorted((await session.exec(query)).all(), key=lambda u: (u.kind != "ward", u.name))
    first = [u for u in top if u.kind in KINDS]
    return first + [u for u in found if u not in first]


async def form(request: web.Request) -> web.StreamResponse:
    who = viewer(request)
    period, _ = period_of(request)
    units = await _units(request, who)
    return page(request, "reports.html", units=units, period=period, error=None)


async def download(request: web.Request) -> web.StreamResponse:
    dash, who = dashboard(request), viewer(request)
    units = {u.code: u for u in await _units(request, who)}
    code, fmt = request.query.get("donvi", ""), request.query.get("dinhdang", "")
    try:
        period = parse_period(request.query.get("ky", ""), dash.tz)
    except PeriodError:
        return page(request, "reports.html", status=400, units=list(units.values()),
                    period=period_of(request)[0], error="period")  # fmt: skip
    if code not in units or fmt not in FORMATS:
        raise web.HTTPNotFound()
    filed = await make_report(dash.db, dash.content, period, unit=code)
    with tempfile.TemporaryDirectory() as folder:
        out = Path(folder) / f"report.{fmt}"
        await asyncio.to_thread(
            write_report, filed, fmt, out, content_dir=dash.content_dir, tz=dash.tz
        )
        body = await asyncio.to_thread(out.read_bytes)
    name = f"bao-cao-{code}-{period.label}.{fmt}"
    return web.Response(
        body=body,
        content_type=MEDIA_TYPES[fmt],
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


def routes(r: web.RouteTableDef) -> None:
    r.get("/baocao")(form)
    r.get("/baocao/tai")(download)
