"""/admin/phanhoi: what people wrote loa in the viewer's units over a period — counts by
category and by sentiment (rows the classifier has not labelled yet counted as «chưa phân
loại», not guessed), sentiment by week as an inline SVG, the units whose last week rose
(bot.services.trends.rises, computed now) and the misinformation reports with their status."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta

from aiohttp import web
from sqlmodel import col, select

from bot.services import trends
from bot.storage.models import FeedbackItem, ItemKind, Unit
from bot.web.admin.chart import bar_chart
from bot.web.admin.deps import dashboard, viewer
from bot.web.admin.figures import period_of
from bot.web.admin.pages import page

SENTIMENTS = ("negative", "neutral", "positive", None)  # None: not labelled yet
COLOURS = ("#b03a2e", "#9e9e9e", "#1f4e79", "#e0c060")


async def feedback(request: web.Request) -> web.StreamResponse:
    dash, who = dashboard(request), viewer(request)
    period, error = period_of(request)
    now = dash.now()
    query = select(FeedbackItem).where(col(FeedbackItem.unit_id).in_(list(who.scope)))
    async with dash.db.read_session() as session:
        found = list((await session.exec(query.order_by(col(FeedbackItem.created_at)))).all())
        units = {u.id: u.name for u in (await session.exec(select(Unit))).all()}
    shown = [i for i in found if period.start <= i.created_at < period.end]
    labelled = [
        (i.unit_id, i.created_at, i.category, i.sentiment, i.text or "")
        for i in found
        if i.unit_id is not None and i.category and i.sentiment
    ]
    tz = period.tz
    weeks: dict[str, Counter[str | None]] = {}
    day = period.first - timedelta(days=period.first.weekday())
    while day <= period.last:
        weeks[day.strftime("%d/%m")] = Counter()
        day += timedelta(days=7)
    for i in shown:
        local = i.created_at.astimezone(tz).date()
        monday = (local - timedelta(days=local.weekday())).strftime("%d/%m")
        weeks.setdefault(monday, Counter())[i.sentiment] += 1
    rows = [(label, [c[s] for s in SENTIMENTS]) for label, c in weeks.items()]
    return page(
        request,
        "feedback.html",
        period=period,
        error=error,
        total=len(shown),
        categories=Counter(i.category for i in shown).most_common(),
        sentiments=Counter(i.sentiment for i in shown),
        order=SENTIMENTS,
        weeks=rows,
        chart=bar_chart(rows, COLOURS, "Số ý kiến theo cảm xúc, theo tuần"),
        rises=trends.rises(labelled, now) if labelled else [],
        reports=[i for i in reversed(shown) if i.kind == ItemKind.MISINFORMATION],
        units=units,
    )


def routes(r: web.RouteTableDef) -> None:
    r.get("/phanhoi")(feedback)
