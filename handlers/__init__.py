"""What the bot does when people write or tap: one module per feature, one router for all."""

from __future__ import annotations

from bot.dispatch import Router
from handlers import (
    ack,
    activities,
    announcements,
    answers,
    clubs,
    groups,
    invites,
    misinformation,
    models,
    privacy,
    questions,
    receipts,
    signin,
    start,
    stats,
    tasks,
    typed,
    units,
    unsupported,
)

__all__ = ["build_router"]


def build_router() -> Router:
    router = Router()
    for feature in (
        receipts,
        privacy,
        start,
        invites,
        groups,
        units,
        announcements,
        tasks,
        activities,
        models,
        questions,
        misinformation,
        stats,
        clubs,
        signin,
        ack,
        answers,
        typed,
        unsupported,
    ):
        router.include(feature.router())
    return router
