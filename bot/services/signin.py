"""Dashboard sign-in without passwords: /dangnhap gives an official or a school admin a link
that works once, for ten minutes, for them alone; it opens a server-side session.

Only SHA-256 hashes of the link token and the session id are stored (the tokens are 256 random
bits, so a plain hash is enough): a copy of the database opens nothing. Taking a link and
ending a session are conditional statements, so a link used twice at once opens one session.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, update
from sqlmodel import col, select

from bot.storage.db import Database
from bot.storage.models import SignInLink, WebSession, table_of, utcnow

LINK_LIFETIME = timedelta(minutes=10)
SESSION_LIFETIME = timedelta(hours=8)  # a working day; then /dangnhap again


def digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


async def issue_link(db: Database, person_id: int, now: datetime | None = None) -> str:
    """A new one-time token for `person_id` (their older unused links stay valid until they
    expire: each was sent to the same private chat)."""
    now = now or utcnow()
    token = secrets.token_urlsafe(32)
    async with db.session() as session:
        # links past their time are of no use to anyone: they go as new ones are made
        await session.exec(delete(SignInLink).where(col(SignInLink.expires_at) < now))
        session.add(
            SignInLink(
                token_hash=digest(token),
                person_id=person_id,
                created_at=now,
                expires_at=now + LINK_LIFETIME,
            )
        )
        await session.commit()
    return token


async def redeem_link(db: Database, token: str, now: datetime | None = None) -> int | None:
    """The person a valid, unused, unexpired link is for, marking it used; None otherwise."""
    now = now or utcnow()
    links = table_of(SignInLink)
    taken = (
        update(links)
        .where(
            links.c.token_hash == digest(token),
            links.c.used_at.is_(None),
            links.c.expires_at > now,
        )
        .values(used_at=now)
        .returning(links.c.person_id)
    )
    async with db.session() as session:
        person = (await session.exec(taken)).first()
        await session.commit()
    return None if person is None else int(person[0])


@dataclass(frozen=True, slots=True)
class Opened:
    session_id: str  # for the cookie only
    csrf: str
    expires_at: datetime


async def open_session(
    db: Database, person_id: int, replaces: str | None = None, now: datetime | None = None
) -> Opened:
    """A new session (a new id at every sign-in); the browser's previous one, if any, ends."""
    now = now or utcnow()
    opened = Opened(secrets.token_urlsafe(32), secrets.token_urlsafe(32), now + SESSION_LIFETIME)
    async with db.session() as session:
        if replaces:
            await session.exec(
                delete(WebSession).where(col(WebSession.id_hash) == digest(replaces))
            )
        await session.exec(delete(WebSession).where(col(WebSession.expires_at) <= now))
        session.add(
            WebSession(
                id_hash=digest(opened.session_id),
                person_id=person_id,
                csrf=opened.csrf,
                created_at=now,
                expires_at=opened.expires_at,
            )
        )
        await session.commit()
    return opened


async def find_session(
    db: Database, session_id: str, now: datetime | None = None
) -> WebSession | None:
    now = now or utcnow()
    async with db.read_session() as session:
        query = select(WebSession).where(
            WebSession.id_hash == digest(session_id), col(WebSession.expires_at) > now
        )
        return (await session.exec(query)).first()


async def close_session(db: Database, session_id: str) -> None:
    async with db.session() as session:
        await session.exec(delete(WebSession).where(col(WebSession.id_hash) == digest(session_id)))
        await session.commit()


def same_token(given: str | None, expected: str) -> bool:
    """A form's CSRF token against the session's, in constant time."""
    return given is not None and hmac.compare_digest(given.encode(), expected.encode())
