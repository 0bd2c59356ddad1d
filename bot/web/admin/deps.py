"""What every dashboard page is handed: the service's parts (`Dashboard`) and who is looking
(`Viewer`, set by bot.web.admin.auth before any page runs)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from aiohttp import web

from bot.domain import Platform
from bot.platforms.base import PlatformAdapter
from bot.reports.report import Content
from bot.storage.db import Database
from bot.storage.models import utcnow
from bot.web.admin.snapshots import Snapshots
from content.templates import Templates


@dataclass
class Dashboard:
    db: Database
    content: Content  # plans and campaigns, as `loa report` loads them
    content_dir: Path
    templates: Templates  # the chat's: what the dashboard's actions say in chat
    adapters: Mapping[Platform, PlatformAdapter] = field(default_factory=dict)
    secure_cookies: bool = False  # the dashboard is served over https (LOA_WEB_BASE_URL)
    now: Callable[[], datetime] = utcnow
    # Figures per period and scope, computed at most once a minute (bot.web.admin.figures).
    figures: Snapshots[Any] = field(default_factory=Snapshots)

    @property
    def tz(self) -> ZoneInfo:
        return self.templates.timezone


@dataclass(frozen=True)
class Viewer:
    """A signed-in official (the ward) or school admin (their school)."""

    person_id: int
    name: str
    platform: str
    platform_user_id: str
    scope: frozenset[int]  # units they see: Action.DASHBOARD's scope
    announce: frozenset[int]  # units they may write announcements for (officials)
    approve: frozenset[int]  # units they may approve announcements for (officials)
    decide_models: frozenset[int]  # units whose exemplary models they decide on (officials)
    csrf: str

    def sees(self, unit: int | None) -> bool:
        return unit is not None and unit in self.scope


DASHBOARD: web.AppKey[Dashboard] = web.AppKey("dashboard", Dashboard)


def dashboard(request: web.Request) -> Dashboard:
    return request.config_dict[DASHBOARD]


VIEWER: web.RequestKey[Viewer] = web.RequestKey("viewer", Viewer)


def viewer(request: web.Request) -> Viewer:
    return request[VIEWER]
