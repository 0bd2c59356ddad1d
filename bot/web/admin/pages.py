"""Rendering a dashboard page: the templates in bot/web/templates/admin (autoescaped: every
value people typed is shown as text), the navigation, number and time formats."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import jinja2
from aiohttp import web

from bot.web.admin.deps import VIEWER, dashboard


@dataclass(frozen=True, slots=True)
class NavItem:
    path: str
    label: str


# One entry per page module (bot/web/admin/<page>.py). Questions and feedback slot in here.
NAV = (
    NavItem("/admin/", "Tổng quan"),
    NavItem("/admin/truong", "Trường học"),
    NavItem("/admin/bai", "Bài đăng & thông báo"),
    NavItem("/admin/cauhoi", "Câu hỏi"),
    NavItem("/admin/phanhoi", "Phản hồi"),
    NavItem("/admin/hoatdong", "Hoạt động & mô hình"),
    NavItem("/admin/nhiemvu", "Nhiệm vụ «06 rõ»"),
    NavItem("/admin/baocao", "Báo cáo"),
)


def number(value: float | int | None) -> str:
    """1234567 → "1.234.567"; 55.6 → "55,6" (Vietnamese separators)."""
    if value is None:
        return "–"
    if isinstance(value, float) and not value.is_integer():
        return f"{value:,.1f}".replace(",", " ").replace(".", ",").replace(" ", ".")
    return f"{int(value):,}".replace(",", ".")


def percent(value: float | None) -> str:
    return "–" if value is None else f"{number(value)}%"


_env = jinja2.Environment(
    loader=jinja2.PackageLoader("bot.web", "templates/admin"),
    autoescape=True,
    trim_blocks=True,
    lstrip_blocks=True,
    undefined=jinja2.StrictUndefined,
)
_env.filters["n"] = number
_env.filters["pct"] = percent


def page(request: web.Request, name: str, *, status: int = 200, **values: Any) -> web.Response:
    tz = dashboard(request).tz

    def when(moment: datetime | None, fmt: str = "%H:%M %d/%m/%Y") -> str:
        return "–" if moment is None else moment.astimezone(tz).strftime(fmt)

    text = _env.get_template(name).render(
        viewer=request.get(VIEWER),
        nav=NAV,
        here=request.path,
        when=when,
        **values,
    )
    return web.Response(text=text, status=status, content_type="text/html", charset="utf-8")
