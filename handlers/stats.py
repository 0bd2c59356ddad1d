"""/thongke: the current quarter in a few lines for the person's units (an official's ward, a
school's staff their school): posts sent, groups and people reached, acknowledged, understood,
and the groups that acknowledged least."""

from __future__ import annotations

from bot.dispatch import Context, Router
from bot.reports.period import VIETNAM, quarter_of
from bot.services.permissions import Action
from bot.services.reach import Filter, reach, unit_tree
from bot.storage.models import utcnow

LOWEST = 3  # groups named as acknowledging least


async def stats(ctx: Context) -> None:
    period = quarter_of(utcnow().astimezone(VIETNAM).date())
    async with ctx.db.reading() as conn:
        found = await reach(conn, Filter(period, units=ctx.scope))
        tree = await unit_tree(conn)
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
    )


def router() -> Router:
    r = Router()
    r.command("thongke", private=True, action=Action.LIST_UNITS)(stats)
    return r
