"""Browser UI at /sandbox: one server-rendered page, refreshed by polling the control API."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import jinja2
from aiohttp import web

if TYPE_CHECKING:
    from .app import Sandbox
    from .control_api import ControlApi

HERE = Path(__file__).parent


class Ui:
    def __init__(self, sb: Sandbox, control: ControlApi) -> None:
        self.sb = sb
        self.control = control
        env = jinja2.Environment(
            loader=jinja2.FileSystemLoader(HERE / "templates"), autoescape=True
        )
        self.template = env.get_template("sandbox.html")

    def setup(self, app: web.Application) -> None:
        app.router.add_get("/", self.root)
        app.router.add_get("/sandbox", self.page)
        app.router.add_get("/sandbox/", self.page)
        app.router.add_static("/sandbox/static/", HERE / "static")

    async def root(self, request: web.Request) -> web.StreamResponse:
        raise web.HTTPFound("/sandbox")

    async def page(self, request: web.Request) -> web.Response:
        state = self.sb.state
        chats = [self.control.chat_summary(c) for c in list(state.chats.values())[:300]]
        users = [{"id": u.id, "name": u.first_name} for u in state.users.values()]
        html = self.template.render(
            chats=chats, users=users, chat_count=len(state.chats), user_count=len(users)
        )
        return web.Response(text=html, content_type="text/html", charset="utf-8")
