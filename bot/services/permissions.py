"""Who may do what: the one permission table, checked by every action.

A role is held in a unit. Staff roles reach the unit's whole school (a teacher of class 1A acts
for the school), an official the whole subtree of the unit the role is held in (the ward).
Answering posts, /toi, /xoadulieu and /huongdan, asking a question and reporting
misinformation are open to everyone and are not listed.
"""

from __future__ import annotations

from collections.abc import Collection
from enum import StrEnum
from typing import Final

from sqlalchemy import bindparam
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.services.units import school_of, subtree_ids
from bot.storage.models import Person, Role, RoleName

OFFICIAL, SCHOOL_ADMIN, TEACHER = RoleName.OFFICIAL, RoleName.SCHOOL_ADMIN, RoleName.TEACHER
STAFF: Final = frozenset({OFFICIAL, SCHOOL_ADMIN, TEACHER})


class Action(StrEnum):
    INVITE_OFFICIAL = "invite_official"
    INVITE_SCHOOL_ADMIN = "invite_school_admin"
    INVITE_TEACHER = "invite_teacher"
    INVITE_PARENT = "invite_parent"
    INVITE_COMMUNITY = "invite_community"
    REVOKE_INVITE = "revoke_invite"  # besides its creator, who may always revoke their own
    BIND_GROUP = "bind_group"
    LIST_UNITS = "list_units"
    ADD_UNIT = "add_unit"  # a class under a school, a residential group under a ward
    ANNOUNCE = "announce"
    APPROVE_ANNOUNCEMENT = "approve_announcement"  # never one's own
    REPORT_TASK = "report_task"  # give the result of a "06 rõ" task of one's unit
    REPORT_ACTIVITY = "report_activity"  # /baocao and /mohinh, for one's own school (ward)
    APPROVE_MODEL = "approve_model"  # decide on a school's exemplary model (/mohinh)
    SEE_TRENDS = "see_trends"  # receive feedback-trend and misinformation-burst alerts
    ANSWER_QUESTION = "answer_question"  # read, answer, mark handled a question of one's school
    HANDLE_MISINFORMATION = "handle_misinformation"  # see reports, send a clarification
    DASHBOARD = "dashboard"  # /dangnhap and the web dashboard: the ward, or one's school


PERMISSIONS: Final[dict[Action, frozenset[RoleName]]] = {
    Action.INVITE_OFFICIAL: frozenset({OFFICIAL}),
    Action.INVITE_SCHOOL_ADMIN: frozenset({OFFICIAL, SCHOOL_ADMIN}),
    Action.INVITE_TEACHER: frozenset({OFFICIAL, SCHOOL_ADMIN}),
    Action.INVITE_PARENT: frozenset({OFFICIAL, SCHOOL_ADMIN, TEACHER}),
    Action.INVITE_COMMUNITY: frozenset({OFFICIAL}),
    Action.REVOKE_INVITE: frozenset({OFFICIAL, SCHOOL_ADMIN}),
    Action.BIND_GROUP: STAFF,
    Action.LIST_UNITS: STAFF,
    Action.ADD_UNIT: frozenset({OFFICIAL, SCHOOL_ADMIN}),
    Action.ANNOUNCE: frozenset({OFFICIAL}),
    Action.APPROVE_ANNOUNCEMENT: frozenset({OFFICIAL}),
    Action.REPORT_TASK: STAFF,
    Action.REPORT_ACTIVITY: STAFF,
    Action.APPROVE_MODEL: frozenset({OFFICIAL}),
    Action.SEE_TRENDS: frozenset({OFFICIAL}),
    Action.ANSWER_QUESTION: STAFF,
    Action.HANDLE_MISINFORMATION: frozenset({OFFICIAL}),
    Action.DASHBOARD: frozenset({OFFICIAL, SCHOOL_ADMIN}),
}

INVITE_ACTION: Final[dict[RoleName, Action]] = {
    RoleName.OFFICIAL: Action.INVITE_OFFICIAL,
    RoleName.SCHOOL_ADMIN: Action.INVITE_SCHOOL_ADMIN,
    RoleName.TEACHER: Action.INVITE_TEACHER,
    RoleName.PARENT: Action.INVITE_PARENT,
    RoleName.COMMUNITY: Action.INVITE_COMMUNITY,
}


async def roles_of(session: AsyncSession, person_id: int | None) -> list[Role]:
    if person_id is None:
        return []
    return list((await session.exec(_ROLES, params={"person": person_id})).all())


_ROLES = select(Role).where(col(Role.person_id) == bindparam("person"))  # built once: it is hot


async def scope(session: AsyncSession, person_id: int | None, action: Action) -> set[int]:
    """The units where `person_id` may do `action` (empty: nowhere)."""
    return (await scopes(session, person_id, [action]))[action]


async def scopes(
    session: AsyncSession, person_id: int | None, actions: Collection[Action]
) -> dict[Action, set[int]]:
    """`scope` of several actions at once: the person's roles and each subtree read once (the
    dashboard asks for four on every page)."""
    held: list[tuple[str, int]] = []  # each role, and the unit it acts from
    for role in await roles_of(session, person_id):
        if role.role == OFFICIAL:
            held.append((role.role, role.unit_id))
        elif (school := await school_of(session, role.unit_id)) is not None:
            held.append((role.role, school))  # school staff act for their school, not above it
    out: dict[Action, set[int]] = {}
    walked: dict[frozenset[int], set[int]] = {}
    for action in actions:
        allowed = PERMISSIONS[action]
        roots = frozenset(unit for role, unit in held if role in allowed)
        if roots and roots not in walked:
            walked[roots] = await subtree_ids(session, roots)
        out[action] = set(walked[roots]) if roots else set()
    return out


async def may(
    session: AsyncSession, person_id: int | None, action: Action, unit_id: int | None = None
) -> bool:
    """Whether `person_id` may do `action` in `unit_id` (anywhere at all, without a unit)."""
    units = await scope(session, person_id, action)
    return bool(units) if unit_id is None else unit_id in units


async def deciders(
    session: AsyncSession,
    action: Action,
    units: Collection[int],
    author_id: int | None,
    platform: str,
) -> list[Person]:
    """The people on `platform`, other than `author_id`, who may do `action` for every one of
    `units`: who is asked to approve an announcement or a model (never its author)."""
    query = (
        select(Person)
        .join(Role, col(Role.person_id) == Person.id)
        .where(
            col(Role.role).in_(list(PERMISSIONS[action])),
            Person.id != author_id,
            Person.platform == platform,
        )
        .distinct()
    )
    found = [
        person
        for person in (await session.exec(query)).all()
        if set(units) <= await scope(session, person.id, action)
    ]
    return sorted(found, key=lambda p: p.id or 0)
