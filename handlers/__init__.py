"""What the bot does when people write or tap: one module per feature, one router for all."""

from __future__ import annotations

from bot.dispatch import Router
from handlers import (
    ack,
    activities,
    announcements,
    answers,
    groups,
    invites,
    models,
    privacy,
    signin,
    start,
    stats,
    tasks,
    typed,
    units,
)

__all__ = ["build_router"]


def build_router() -> Router:
    router = Router()
    for feature in (
        privacy,
        start,
        invites,
        groups,
        units,
        announcements,
        tasks,
        activities,
        models,
        stats,
        signin,
        ack,
        answers,
        typed,
    ):
        router.include(feature.router())
    return router
