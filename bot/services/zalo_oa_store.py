"""What the Zalo OA adapter keeps in the database: its tokens, and per follower the facts the
message rules depend on (last interaction, consultations since, promotions sent).

Refresh tokens are single-use: `save_refreshed` commits the new pair before the adapter uses
the new access token, and only over the refresh token it used (compare-and-swap), so two
processes refreshing at once cannot overwrite a newer pair with an older one.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select, update

from bot.storage.db import Database, insert_ignoring_duplicates
from bot.storage.models import ZaloOaFollower, ZaloOaPromotion, ZaloOaToken, table_of, utcnow

_tokens, _followers = table_of(ZaloOaToken), table_of(ZaloOaFollower)
_promotions = table_of(ZaloOaPromotion)


@dataclass(frozen=True, slots=True)
class Tokens:
    refresh_token: str
    access_token: str | None
    access_expires_at: datetime | None


@dataclass(frozen=True, slots=True)
class FollowerFacts:
    last_interaction_at: datetime | None
    cs_since_interaction: int
    promotions_since: int  # since the start of the month asked about
    last_promotion_at: datetime | None


class ZaloOaStore:
    def __init__(self, db: Database, app_id: str) -> None:
        self.db, self.app_id = db, app_id

    # --- tokens -------------------------------------------------------------------------------

    async def tokens(self, initial_refresh_token: str | None) -> Tokens | None:
        """The stored tokens; the first time, the configured refresh token is stored first."""
        if initial_refresh_token:
            row = {
                "app_id": self.app_id,
                "refresh_token": initial_refresh_token,
                "updated_at": utcnow(),
            }
            async with self.db.engine.begin() as conn:
                await conn.execute(insert_ignoring_duplicates(self.db, _tokens).values(row))
        async with self.db.reading() as conn:
            found = (
                await conn.execute(
                    select(
                        _tokens.c.refresh_token, _tokens.c.access_token, _tokens.c.access_expires_at
                    ).where(_tokens.c.app_id == self.app_id)
                )
            ).first()
        return Tokens(*found) if found else None

    async def mark_refreshing(self, used: str) -> None:
        """Written before the refresh token `used` leaves: if no new pair is stored after it,
        the next start knows a refresh may have consumed it."""
        async with self.db.engine.begin() as conn:
            await conn.execute(
                update(_tokens)
                .where(_tokens.c.app_id == self.app_id, _tokens.c.refresh_token == used)
                .values(refreshing_since=utcnow())
            )

    async def save_refreshed(self, used: str, new: Tokens) -> bool:
        """Commit the new pair over the refresh token `used`; False if another process stored
        a newer pair meanwhile (then ours is not used)."""
        async with self.db.engine.begin() as conn:
            result = await conn.execute(
                update(_tokens)
                .where(_tokens.c.app_id == self.app_id, _tokens.c.refresh_token == used)
                .values(
                    refresh_token=new.refresh_token,
                    access_token=new.access_token,
                    access_expires_at=new.access_expires_at,
                    refreshing_since=None,
                    updated_at=utcnow(),
                )
            )
        return bool(result.rowcount)

    # --- followers ----------------------------------------------------------------------------

    async def follower(self, user_id: str, month_start: datetime) -> FollowerFacts:
        f, p = _followers.c, _promotions.c
        async with self.db.reading() as conn:
            row = (
                await conn.execute(
                    select(f.last_interaction_at, f.cs_since_interaction).where(
                        f.user_id == user_id
                    )
                )
            ).first()
            promos = (
                await conn.execute(
                    select(func.count(), func.max(p.sent_at)).where(
                        p.user_id == user_id, p.sent_at >= month_start
                    )
                )
            ).one()
        last, count = (row[0], int(row[1])) if row else (None, 0)
        return FollowerFacts(last, count, int(promos[0]), promos[1])

    async def interacted(self, user_id: str, at: datetime, followed: bool = True) -> None:
        """The follower wrote (or followed): the consultation window opens again."""
        async with self.db.engine.begin() as conn:
            await conn.execute(
                insert_ignoring_duplicates(self.db, _followers).values(
                    user_id=user_id, cs_since_interaction=0, followed=followed
                )
            )
            await conn.execute(
                update(_followers)
                .where(_followers.c.user_id == user_id)
                .values(last_interaction_at=at, cs_since_interaction=0, followed=followed)
            )

    async def unfollowed(self, user_id: str) -> None:
        async with self.db.engine.begin() as conn:
            await conn.execute(
                update(_followers).where(_followers.c.user_id == user_id).values(followed=False)
            )

    async def window_closed(self, user_id: str) -> None:
        """Zalo says the window is closed: forget the interaction, promotions from now on."""
        async with self.db.engine.begin() as conn:
            await conn.execute(
                update(_followers)
                .where(_followers.c.user_id == user_id)
                .values(last_interaction_at=None)
            )

    async def consulted(self, user_id: str) -> None:
        async with self.db.engine.begin() as conn:
            await conn.execute(
                update(_followers)
                .where(_followers.c.user_id == user_id)
                .values(cs_since_interaction=_followers.c.cs_since_interaction + 1)
            )

    async def promoted(self, user_id: str, at: datetime) -> None:
        async with self.db.engine.begin() as conn:
            await conn.execute(_promotions.insert().values(user_id=user_id, sent_at=at))
