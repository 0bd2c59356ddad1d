"""The Dispatcher: a Router bound to the database and templates, as the inbox sees it. It checks
what a route declared (`Needs`) before its handler runs, and returns what the handlers said."""

from __future__ import annotations

from bot.dispatch.context import Context
from bot.dispatch.router import Handler, Route, Router
from bot.domain import EventKind, InboundEvent, Reply
from bot.platforms.base import PlatformAdapter
from bot.services import numbered
from bot.storage.db import Database
from content.templates import Templates


class Dispatcher:
    def __init__(
        self, router: Router, *, db: Database, templates: Templates, web_url: str = ""
    ) -> None:
        self.router = router
        self.db = db
        self.templates = templates
        self.web_url = web_url  # where the dashboard's links point (Settings.dashboard_url)

    async def dispatch(self, event: InboundEvent, adapter: PlatformAdapter) -> list[Reply]:
        """Run the handlers for `event`; what they said, to send once this returns. Where the
        platform has no buttons, a typed number first becomes the numbered reply's tap."""
        replies: list[Reply] = []
        if not adapter.capabilities.inline_buttons:
            resolved = await numbered.resolve(self.db, event)
            if isinstance(resolved, numbered.OutOfRange):
                ctx = self._context(event, adapter)
                ctx.reply("numbered_out_of_range", typed=resolved.typed, count=resolved.count)
                return ctx.replies
            event = resolved
        for first in self.router.firsts:
            replies += await self._run(first, self._context(event, adapter))
        match = self.router.match(event)
        if match is None:
            if event.kind is EventKind.BUTTON:  # stop the spinner of a tap nobody handles
                ctx = self._context(event, adapter)
                ctx.answer_button()
                replies += ctx.replies
            return replies
        ctx = self._context(event, adapter, match.args)
        if await self._admitted(ctx, match.route):
            await match.route.handler(ctx)
        return replies + ctx.replies

    async def give_up(self, event: InboundEvent, adapter: PlatformAdapter) -> list[Reply]:
        """The event failed for good: say so politely, where the person is waiting for us."""
        ctx = self._context(event, adapter)
        if event.kind is EventKind.BUTTON:
            ctx.answer_button("error")
        elif event.kind is EventKind.MESSAGE and self.router.match(event) is not None:
            ctx.reply("error")
        return ctx.replies

    async def _admitted(self, ctx: Context, route: Route) -> bool:
        """Whether the route's needs are met; if not, the person is told why."""
        needs = route.needs
        if needs.private and not ctx.is_private:
            _refuse(ctx, "private_only", command=route.name)
            return False
        if (needs.person or needs.action) and not await ctx.authorize(needs.action):
            _refuse(ctx, needs.refusal)
            return False
        return True

    @staticmethod
    async def _run(handler: Handler, ctx: Context) -> list[Reply]:
        await handler(ctx)
        return ctx.replies

    def _context(self, event: InboundEvent, adapter: PlatformAdapter, args: str = "") -> Context:
        return Context(event, self.db, self.templates, adapter, args, web_url=self.web_url)


def _refuse(ctx: Context, template_name: str, command: str = "") -> None:
    if ctx.event.kind is EventKind.BUTTON:
        ctx.answer_button(template_name, command=command, reason="forbidden")
    else:
        ctx.reply(template_name, command=command, reason="forbidden")
