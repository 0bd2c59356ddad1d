"""The dashboard under /admin (issue 13): one module per page, each with `routes(r)` and an
entry in pages.NAV; bot.web.admin.auth guards them all."""

from __future__ import annotations

from aiohttp import web

from bot.web.admin import (
    activities,
    auth,
    duties,
    feedback,
    overview,
    posts,
    questions,
    reports,
    schools,
)
from bot.web.admin.deps import DASHBOARD, Dashboard

PAGES = (auth, overview, schools, posts, questions, feedback, activities, duties, reports)

__all__ = ["Dashboard", "admin_app"]


def admin_app(dash: Dashboard) -> web.Application:
    """The sub-application mounted at /admin."""
    app = web.Application(middlewares=[auth.guard])
    app[DASHBOARD] = dash
    r = web.RouteTableDef()
    for module in PAGES:
        module.routes(r)
    app.add_routes(r)
    return app
