"""Sandbox mode's Zalo OA: two parents following the OA and one OA group (GMF), bound to the
ward's parents, so that announcements to parents reach Zalo OA too."""

from __future__ import annotations

import logging

from sqlalchemy import select

from bot.domain import Audience, Platform
from bot.platforms.zalo_oa import GROUP
from bot.sandbox import Sandbox
from bot.sandbox.state import Chat as SandboxChat
from bot.sandbox.state import User
from bot.sandbox.zalo_oa_api import OA_ID
from bot.storage.db import Database, insert_ignoring_duplicates
from bot.storage.models import Chat, Unit, table_of, utcnow

log = logging.getLogger(__name__)
FOLLOWERS = ("Phụ huynh Zalo Lan", "Phụ huynh Zalo Minh")
GROUP_TITLE = "Nhóm Zalo OA phụ huynh phường"


async def seed(db: Database, sandbox: Sandbox, webhook_url: str, _ward: object = None) -> None:
    oa = sandbox.zalo_oa
    oa.configure(webhook_url=webhook_url)
    state = sandbox.state
    users = []
    for name in FOLLOWERS:
        user = User(state.new_user_id(), name)
        state.users[user.id] = user
        oa.follow(user)
        users.append(user)
    group = SandboxChat(
        id=state.new_group_id(), platform="zalo_oa", type="group", title=GROUP_TITLE
    )
    for member in [*(u.id for u in users), OA_ID]:
        group.members[member] = "member"
    state.chats[group.id] = group
    units = table_of(Unit)
    async with db.engine.begin() as conn:
        ward = (
            await conn.execute(select(units.c.id).where(units.c.kind == "ward").limit(1))
        ).scalar_one_or_none()
        if ward is None:
            log.warning("demo: no ward in units.yaml, the Zalo OA chats are left unbound")
        now = utcnow()
        rows = [
            {
                "platform": Platform.ZALO_OA.value,
                "platform_chat_id": str(u.id),
                "type": "private",
                "title": u.first_name,
                "member_count": 1,
                "member_count_at": now,
            }
            for u in users
        ] + [
            {
                "platform": Platform.ZALO_OA.value,
                "platform_chat_id": f"{GROUP}{group.id}",
                "type": "group",
                "title": GROUP_TITLE,
                "member_count": len(users),
                "member_count_at": now,
            }
        ]
        for row in rows:
            row.update(unit_id=ward, audience=Audience.parents.value, active=True, created_at=now)
        await conn.execute(insert_ignoring_duplicates(db, table_of(Chat)), rows)
