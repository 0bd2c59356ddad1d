"""Invite codes: how people get a role in a unit.

A code is 16 characters of a 32-letter alphabet without look-alikes (80 random bits), shown in
groups of four ("K7QM-3XWP-…") so it can be read out and typed on Zalo; typing ignores case,
spaces and dashes. Only its SHA-256 is stored. Wrong codes are throttled per person, in
`throttles` under a keyed hash of their platform id: erasing oneself does not reset the count.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Final

from sqlalchemy import delete
from sqlmodel import col, select, update
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.domain import UnitKind as K
from bot.storage.db import insert_for, keyed_hash
from bot.storage.models import Invite, Person, Role, RoleName, Throttle, Unit, table_of, utcnow
from bot.text import fold

ALPHABET: Final = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"  # no 0/O, 1/I
LENGTH: Final = 16
DEFAULT_DAYS: Final = 14
MAX_DAYS: Final = 90
MAX_USES: Final = 5000
DEFAULT_USES: Final[dict[RoleName, int]] = {  # a parents' link is shared in a class group
    RoleName.OFFICIAL: 1,
    RoleName.SCHOOL_ADMIN: 1,
    RoleName.TEACHER: 50,
    RoleName.PARENT: 500,
    RoleName.COMMUNITY: 500,
}
UNIT_KINDS: Final[dict[RoleName, frozenset[K]]] = {  # where each role can be held
    RoleName.OFFICIAL: frozenset({K.ward, K.department}),
    RoleName.SCHOOL_ADMIN: frozenset({K.school}),
    RoleName.TEACHER: frozenset({K.school, K.class_}),
    RoleName.PARENT: frozenset({K.school, K.class_, K.residential_group}),
    RoleName.COMMUNITY: frozenset({K.ward, K.residential_group}),
}
WRONG_LIMIT: Final = 5  # wrong codes a person may type …
WRONG_WINDOW: Final = timedelta(minutes=15)  # … in this long, before they must wait it out
_TYPED = re.compile(r"^[\s-]*(?:[2-9A-HJ-NP-Z][\s-]*){16}$")


def new_code() -> str:
    raw = "".join(secrets.choice(ALPHABET) for _ in range(LENGTH))
    return "-".join(raw[i : i + 4] for i in range(0, LENGTH, 4))


def normalize(typed: str) -> str | None:
    """The code in `typed` ("k7qm 3xwp-…"), or None if it is not shaped like one."""
    upper = typed.strip().upper()
    if not _TYPED.match(upper):
        return None
    return re.sub(r"[\s-]", "", upper)


def digest(code: str) -> str:
    return hashlib.sha256(code.replace("-", "").upper().encode()).hexdigest()


async def create(
    session: AsyncSession,
    role: RoleName,
    unit_id: int,
    created_by: int | None,
    *,
    uses: int | None = None,
    days: int = DEFAULT_DAYS,
    now: datetime | None = None,
) -> tuple[Invite, str]:
    """A new invite and its code (the only time the code exists in clear). Not committed.
    ValueError for a unit the role cannot be held in, or numbers out of range."""
    unit = await session.get(Unit, unit_id)
    if unit is None or not unit.active or unit.kind not in UNIT_KINDS[role]:
        kinds = ", ".join(sorted(UNIT_KINDS[role]))
        raise ValueError(f"a {role.value} belongs to a unit of kind {kinds}")
    if not 1 <= days <= MAX_DAYS:
        raise ValueError(f"days must be 1..{MAX_DAYS}")
    uses = DEFAULT_USES[role] if uses is None else uses
    if not 1 <= uses <= MAX_USES:
        raise ValueError(f"uses must be 1..{MAX_USES}")
    code = new_code()
    invite = Invite(
        code_hash=digest(code),
        role=role.value,
        unit_id=unit_id,
        created_by=created_by,
        expires_at=(now or utcnow()) + timedelta(days=days),
        max_uses=uses,
    )
    session.add(invite)
    await session.flush()
    return invite, code


class Outcome(StrEnum):
    JOINED = "joined"
    ALREADY = "already"  # the person holds this role here already: no use is spent
    UNKNOWN = "unknown"
    EXPIRED = "expired"
    REVOKED = "revoked"
    USED_UP = "used_up"
    THROTTLED = "throttled"
    LINKED = "linked"  # a personal code typed on a second platform: one person on both


@dataclass(frozen=True)
class Redemption:
    outcome: Outcome
    role: str | None = None
    unit_name: str | None = None
    wait_minutes: int = 0  # THROTTLED: how long until the person may try again


async def redeem(
    session: AsyncSession, person: Person, code: str, now: datetime | None = None
) -> Redemption:
    """Give `person` the invite's role, spending one use. Commits."""
    now = now or utcnow()
    assert person.id is not None
    throttle = await throttle_key(session, person)
    wait = await _throttled(session, throttle, now)
    await session.commit()  # the windows that are over are gone, whatever follows
    if wait is not None:
        return Redemption(Outcome.THROTTLED, wait_minutes=wait)
    invite = (await session.exec(select(Invite).where(Invite.code_hash == digest(code)))).first()
    if invite is None:
        await _count_wrong(session, throttle, now)
        await session.commit()
        return Redemption(Outcome.UNKNOWN)
    assert invite.id is not None
    unit = await session.get(Unit, invite.unit_id)
    found = Redemption(Outcome.JOINED, invite.role, unit.name if unit else None)
    if invite.revoked_at is not None or unit is None or not unit.active:
        return Redemption(Outcome.REVOKED, found.role, found.unit_name)
    if invite.expires_at <= now:
        return Redemption(Outcome.EXPIRED, found.role, found.unit_name)
    if await _link(session, person, invite):
        return Redemption(Outcome.LINKED, found.role, found.unit_name)
    held = select(Role.id).where(
        Role.person_id == person.id, Role.role == invite.role, Role.unit_id == invite.unit_id
    )
    if (await session.exec(held)).first() is not None:
        return Redemption(Outcome.ALREADY, found.role, found.unit_name)
    # One statement decides who gets the last use when two people redeem at once.
    spend = (
        update(table_of(Invite))
        .where(
            col(Invite.id) == invite.id,
            col(Invite.uses) < col(Invite.max_uses),
            col(Invite.revoked_at).is_(None),
        )
        .values(uses=col(Invite.uses) + 1)
        .returning(col(Invite.id))
    )
    if (await session.exec(spend)).first() is None:
        await session.rollback()
        return Redemption(Outcome.USED_UP, found.role, found.unit_name)
    session.add(
        Role(person_id=person.id, role=invite.role, unit_id=invite.unit_id, invite_id=invite.id)
    )
    await session.exec(delete(Throttle).where(col(Throttle.key) == throttle))
    await session.commit()
    return found


async def _link(session: AsyncSession, person: Person, invite: Invite) -> bool:
    """A personal (one-use) code its holder typed again on another platform: this account
    becomes theirs (`linked_to`), so loa counts and serves one person on both. Only an account
    with no role of its own is linked; what it did before (its answers) stays its own. Commits."""
    if invite.max_uses != 1 or invite.uses < 1 or person.linked_to is not None:
        return False
    holder_id = (
        await session.exec(select(Role.person_id).where(Role.invite_id == invite.id))
    ).first()
    holder = await session.get(Person, holder_id) if holder_id is not None else None
    if holder is None or holder.id == person.id or holder.platform == person.platform:
        return False
    if (await session.exec(select(Role.id).where(Role.person_id == person.id))).first():
        return False
    person.linked_to = holder.id
    session.add(person)
    await session.commit()
    return True


async def throttle_key(session: AsyncSession, person: Person) -> str:
    return await keyed_hash(session, f"{person.platform}:{person.platform_user_id}:invite")


async def _throttled(session: AsyncSession, key: str, now: datetime) -> int | None:
    """Minutes until the person may try again, or None. Drops every window that is over."""
    await session.exec(delete(Throttle).where(col(Throttle.since) <= now - WRONG_WINDOW))
    row = await session.get(Throttle, key)
    if row is None or row.count < WRONG_LIMIT:
        return None
    return max(1, -(-int((row.since + WRONG_WINDOW - now).total_seconds()) // 60))


async def _count_wrong(session: AsyncSession, key: str, now: datetime) -> None:
    first = insert_for(session, table_of(Throttle)).values(key=key, count=1, since=now)
    again = first.on_conflict_do_update(
        index_elements=[col(Throttle.key)], set_={"count": col(Throttle.count) + 1}
    )
    await session.exec(again)


async def revoke(session: AsyncSession, invite: Invite, now: datetime | None = None) -> bool:
    """Revoke `invite`; False if it already was. Commits."""
    if invite.revoked_at is not None:
        return False
    invite.revoked_at = now or utcnow()
    session.add(invite)
    await session.commit()
    return True


# What people type for a role: folded, without spaces, dashes or underscores.
ROLE_WORDS: dict[str, RoleName] = {
    "canbo": RoleName.OFFICIAL, "canbophuong": RoleName.OFFICIAL, "canboxa": RoleName.OFFICIAL,
    "official": RoleName.OFFICIAL,
    "quanly": RoleName.SCHOOL_ADMIN, "truyenthong": RoleName.SCHOOL_ADMIN,
    "schooladmin": RoleName.SCHOOL_ADMIN,
    "giaovien": RoleName.TEACHER, "gv": RoleName.TEACHER, "teacher": RoleName.TEACHER,
    "phuhuynh": RoleName.PARENT, "ph": RoleName.PARENT, "parent": RoleName.PARENT,
    "nguoidan": RoleName.COMMUNITY, "congdong": RoleName.COMMUNITY,
    "community": RoleName.COMMUNITY,
}  # fmt: skip
KEYWORD = {role: word for word, role in reversed(ROLE_WORDS.items())}  # the first word of each


def role_named(typed: str) -> RoleName | None:
    """The role a typed word names ("giáo viên", "GV", "canbo"), as /moi and `loa invite` take
    it; None if none."""
    return ROLE_WORDS.get("".join(c for c in fold(typed) if c.isalnum()))
