"""Items held back by Zalo OA's promotion quota are told to the ward's officials, in
Vietnamese, while they wait (never dropped silently).

The adapter refuses a promotion that would pass a cap before it leaves (`Postponed`); the
sender keeps the delivery waiting until the date the cap allows, its error starting
`POSTPONED`. Each run finds each item with such copies, records a flag for it once, and
sends every official the flag; a flag not yet sent (a platform away) is sent again on a
later run (`SWEEP`, a scheduler job).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import datetime, timedelta

from sqlalchemy import func, select, update

from bot.delivery.sender import POSTPONED
from bot.domain import OutboundMessage, Platform
from bot.platforms.base import PlatformAdapter, SendError
from bot.platforms.render import for_platform
from bot.storage.db import Database, insert_ignoring_duplicates
from bot.storage.models import (
    Delivery,
    DeliveryStatus,
    Occurrence,
    Person,
    Role,
    RoleName,
    ZaloOaFlag,
    table_of,
    utcnow,
)
from content.templates import Templates

log = logging.getLogger(__name__)
_delivery, _flag, _occurrence = table_of(Delivery), table_of(ZaloOaFlag), table_of(Occurrence)
_role, _person = table_of(Role), table_of(Person)


SWEEP = timedelta(seconds=30)  # how often held items are looked for (a scheduler job)


class QuotaFlagger:
    def __init__(
        self,
        db: Database,
        adapters: Mapping[Platform, PlatformAdapter],
        templates: Templates,
        *,
        monthly_quota: int,
    ) -> None:
        self.db, self.adapters, self.templates = db, adapters, templates
        self.monthly_quota = monthly_quota

    async def flag_once(self) -> int:
        """Flag the items newly held back, send the flags not yet sent; how many were sent."""
        d = _delivery.c
        held = (
            select(d.occurrence_id, func.count(), func.min(d.next_attempt_at))
            .where(
                d.platform == Platform.ZALO_OA.value,
                d.status == DeliveryStatus.RETRY_WAIT,
                d.error.startswith(POSTPONED, autoescape=True),
            )
            .group_by(d.occurrence_id)
        )
        async with self.db.engine.begin() as conn:
            rows = [
                {"occurrence_id": o, "waiting": int(n), "until": until}
                for o, n, until in await conn.execute(held)
            ]
            if rows:
                await conn.execute(insert_ignoring_duplicates(self.db, _flag), rows)
            pending = (
                await conn.execute(
                    select(
                        _flag.c.occurrence_id,
                        _flag.c.waiting,
                        _flag.c.until,
                        _occurrence.c.title,
                        _occurrence.c.valid_until,
                    )
                    .join(_occurrence, _occurrence.c.id == _flag.c.occurrence_id)
                    .where(_flag.c.flagged_at.is_(None))
                )
            ).all()
            officials = [
                (str(platform), str(user_id))
                for platform, user_id in await conn.execute(
                    select(_person.c.platform, _person.c.platform_user_id)
                    .join(_role, _role.c.person_id == _person.c.id)
                    .where(_role.c.role == RoleName.OFFICIAL.value)
                    .distinct()
                )
            ]
        sent = 0
        for occurrence_id, waiting, until, title, valid_until in pending:
            # An item whose validity ends first will not go: the officials are told so.
            expires = valid_until if valid_until is not None and valid_until <= until else None
            if await self._tell(officials, title, waiting, until, expires):
                sent += 1
                async with self.db.engine.begin() as conn:
                    await conn.execute(
                        update(_flag)
                        .where(_flag.c.occurrence_id == occurrence_id)
                        .values(flagged_at=utcnow())
                    )
                log.info("zalo_oa: item %s held for quota, officials told", occurrence_id)
        return sent

    async def _tell(
        self,
        officials: list[tuple[str, str]],
        title: str,
        waiting: int,
        until: datetime,
        expires: datetime | None,
    ) -> bool:
        """Send the flag to each official in their private chat; True if it reached one."""
        text = self.templates.render(
            "zalo_oa_quota_held",
            title=title,
            waiting=waiting,
            until=until,
            quota=self.monthly_quota,
            expires=expires,
        )
        reached = False
        for platform, user_id in officials:
            adapter = self.adapters.get(Platform(platform))
            if adapter is None:
                continue
            message = for_platform(
                OutboundMessage(chat_id=user_id, text=text), adapter.capabilities, self.templates
            )
            try:
                await adapter.send(message)
                reached = True
            except SendError as e:
                log.warning("zalo_oa quota flag not delivered: %s", type(e).__name__)
        return reached
