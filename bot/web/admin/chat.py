"""What a dashboard action says in chat (an approver asked, an author told): sent at once
through the platform's adapter, best effort — the decision is recorded either way."""

from __future__ import annotations

import logging

from bot.domain import OutboundMessage, Platform
from bot.platforms.base import SendError
from bot.web.admin.deps import Dashboard

log = logging.getLogger(__name__)


async def tell(dash: Dashboard, platform: str, message: OutboundMessage) -> None:
    adapter = dash.adapters.get(Platform(platform))
    if adapter is None:
        return
    try:
        await adapter.send(message)
    except SendError as e:
        log.warning("dashboard: a chat notice was not sent (%s)", type(e).__name__)
