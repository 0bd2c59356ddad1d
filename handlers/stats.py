"""/thongke: the current quarter in a few lines for the person's units (an official's ward, a
school's staff their school): posts sent, groups and people reached, acknowledged, understood,
the groups that acknowledged least, per staff group who has not acknowledged its latest
briefing, and the questions still open in those units (whenever asked) and how many are
overdue. `/thongke <số thông báo>`: one announcement's figures, for its author or an official
over all its units."""

from __future__ import annotations

from bot.dispatch import Context, Router
from bot.reports.period import VIETNAM, quarter_of
from bot.services import questions
from bot.services.permissions import Action, scope
from bot.services.reach import Figures, Filter, audience_unknown, latest_briefings, reach, unit_tree
from bot.storage.models import Announcement, Occurrence, utcnow

LOWEST = 3  # groups named as acknowledging least


async def stats(ctx: Context) -> None:
    if ctx.args.strip():
        await announcement_stats(ctx, ctx.args.strip().lstrip("#"))
        return
    period = quarter_of(utcnow().astimezone(VIETNAM).date())
    async with ctx.db.reading() as conn:
        found = await reach(conn, Filter(period, units=ctx.scope))
        tree = await unit_tree(conn)
        briefings = await latest_briefings(conn, period, ctx.scope, tree)
        pending = await questions.pending(conn, ctx.scope, utcnow())
    total = found.total()
    places = [
        (tree.units[p.unit].name, p.audience, f.acknowledged_share())
        for p, f in found.places.items()
        if f.audience and p.unit is not None
    ]
    lowest = sorted(places, key=lambda p: (p[2], p[0]))[:LOWEST] if len(places) > 1 else []
    ctx.reply(
        "stats",
        quarter=period.label.split("-Q")[1],
        year=period.first.year,
        posts=len(found.sent_posts()),
        figures=total,
        rate=total.as_dict(),
        lowest=lowest,
        briefings=[(tree.units[b.unit].name, b) for b in briefings],
        uncounted=audience_unknown(found),
        pending=pending,
    )


async def announcement_stats(ctx: Context, number: str) -> None:
    """Reach, Đã hiểu and right answers of one announcement, for its author or an official
    whose scope holds every unit it went to."""
    async with ctx.db.session() as session:
        a = await session.get(Announcement, int(number)) if number.isdigit() else None
        allowed = a is not None and (
            a.author_id == ctx.person_id
            or (
                bool(a.unit_ids)
                and set(a.unit_ids) <= await scope(session, ctx.person_id, Action.ANNOUNCE)
            )
        )
        if a is None or not allowed:
            ctx.reply("stats_announcement", number=number, found=False)
            return
        post = await session.get(Occurrence, a.occurrence_id) if a.occurrence_id else None
    figures = Figures()
    if post is not None and post.id is not None:
        period = quarter_of(post.due_at.astimezone(VIETNAM).date())
        async with ctx.db.reading() as conn:
            figures = (await reach(conn, Filter(period, occurrences=[post.id]))).total()
    ctx.reply(
        "stats_announcement",
        number=number,
        found=True,
        sent=post is not None,
        figures=figures,
        rate=figures.as_dict(),
    )


def router() -> Router:
    r = Router()
    r.command("thongke", private=True, action=Action.LIST_UNITS)(stats)
    return r
