"""Reach over people, never over messages (DESIGN "What counts as reach").

One grouped query counts everything once, per *cell* — an occurrence and the unit, audience
and platform of the chats it went to; every roll-up (post, campaign, plan, unit up the tree,
audience, platform, the whole period) sums cells. People are distinct per post and group:
someone who tapped twice, or tapped Đã hiểu and answered the quiz, is one person (one who
answered a post in two of its groups counts in each); summed over posts they are person-posts,
like `audience` (member counts summed over the sends). Failed, uncertain and expired chats are
shown but never reached.
"""

from __future__ import annotations

import operator
from collections import defaultdict
from collections.abc import Callable, Collection, Hashable, Iterable, Mapping
from dataclasses import asdict, dataclass, fields
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Select, String, and_, case, cast, func, literal, or_, select
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.domain import Platform
from bot.platforms.capabilities import CAPABILITIES
from bot.reports.period import VIETNAM, Period
from bot.storage.models import (
    Chat,
    Delivery,
    Feedback,
    Occurrence,
    Person,
    Role,
    Unit,
    table_of,
)
from bot.storage.models import DeliveryStatus as S

_delivery, _chat, _occurrence = table_of(Delivery), table_of(Chat), table_of(Occurrence)
_feedback, _unit = table_of(Feedback), table_of(Unit)
_role, _person = table_of(Role), table_of(Person)
ACK, QUIZ = "ack", "quiz"
RECEIPTS = ("received", "seen")  # receipts, not answers: never engagement
# Occurrences that are one person's service messages, not posts: never reach.
NOT_POSTS = ("question_answer", "question_reminder")
CAMPAIGN = "campaign:"  # an occurrence's source: "campaign:{id}/{post}" or "announcement:{id}"


@dataclass(frozen=True, slots=True)
class Figures:
    sent_chats: int = 0
    audience: int = 0  # member counts of the chats it was sent to, at send time, without the bot
    ack_audience: int = 0  # the part of `audience` that was sent a post asking for Đã hiểu
    acknowledged: int = 0  # people who tapped Đã hiểu
    answered: int = 0  # people who answered the quiz
    understood: int = 0  # people whose answer was right
    engaged: int = 0  # people who interacted in any way
    failed: int = 0  # chats
    uncertain: int = 0  # chats: may or may not have arrived, never counted as reached
    expired: int = 0  # chats
    waiting: int = 0  # chats still to be sent
    received: int = 0  # people whose phone got it (Zalo OA receipts only)
    seen: int = 0  # people who opened it (Zalo OA `user_seen_message` only)

    def __add__(self, other: Figures) -> Figures:
        # attrgetter, not fields(): a province's roll-ups add tens of thousands of cells
        return Figures(*map(operator.add, _values(self), _values(other)))

    def acknowledged_share(self) -> float:
        """Of the people sent a post asking for it, the share who tapped Đã hiểu, 0 to 1."""
        return self.acknowledged / self.ack_audience if self.ack_audience else 0.0

    def as_dict(self) -> dict[str, Any]:
        return {
            **asdict(self),
            "acknowledged_rate": _rate(self.acknowledged, self.ack_audience),
            "understood_rate": _rate(self.understood, self.answered),
            "engaged_rate": _rate(self.engaged, self.audience),
        }


_values = operator.attrgetter(*(f.name for f in fields(Figures)))


def _rate(part: int, whole: int) -> float | None:
    return round(100 * part / whole, 1) if whole else None


@dataclass(frozen=True, slots=True)
class Post:
    """An occurrence in the period."""

    id: int
    key: str
    title: str
    source: str | None
    kind: str | None
    due_at: datetime

    @property
    def campaign(self) -> str | None:
        if self.source and self.source.startswith(CAMPAIGN):
            return self.source[len(CAMPAIGN) :].partition("/")[0]
        return None


@dataclass(frozen=True, slots=True)
class Place:
    """Where chats are: their unit, audience and platform."""

    unit: int | None
    audience: str | None
    platform: str


@dataclass(frozen=True, slots=True)
class Filter:
    """Which occurrences and chats count: the period's, those of some campaigns (None: all,
    announcements included) or some occurrences, chats of some units (None: every chat) and
    of one audience."""

    period: Period
    campaigns: Collection[str] | None = None
    occurrences: Collection[int] | None = None
    units: Collection[int] | None = None
    audience: str | None = None


@dataclass(frozen=True)
class Reach:
    """The cells summed two ways, from which every roll-up is made: over the period per place,
    and per occurrence and audience."""

    posts: Mapping[int, Post]
    places: Mapping[Place, Figures]
    post_audiences: Mapping[tuple[int, str | None], Figures]

    def total(self) -> Figures:
        return sum(self.places.values(), Figures())

    def sent_posts(self) -> set[int]:
        return {occurrence for occurrence, _ in self.post_audiences}

    def by_place(self, key: Callable[[Place], Hashable | None]) -> dict[Any, Figures]:
        return _summed(self.places.items(), key)

    def by_post_audience(
        self, key: Callable[[Post, str | None], Hashable | None]
    ) -> dict[Any, Figures]:
        return _summed(self.post_audiences.items(), lambda k: key(self.posts[k[0]], k[1]))

    def by_post(self) -> dict[str, Figures]:
        return self.by_post_audience(lambda post, _: post.source or post.key)

    def by_campaign(self) -> dict[str, Figures]:
        return self.by_post_audience(lambda post, _: post.campaign)

    def by_plan(self, plan_of: Mapping[str, str]) -> dict[str, Figures]:
        """`plan_of`: campaign id → plan id (content/campaigns)."""
        return self.by_post_audience(lambda post, _: plan_of.get(post.campaign or ""))

    def by_month(self, tz: ZoneInfo = VIETNAM) -> dict[str, Figures]:
        """By the local month of the posts' due times ("2026-10")."""
        return self.by_post_audience(lambda post, _: f"{post.due_at.astimezone(tz):%Y-%m}")

    def by_unit(self, tree: UnitTree) -> dict[int, Figures]:
        """Every unit with what its own chats and the chats of every unit below it got."""
        out: dict[int, Figures] = defaultdict(Figures)
        for unit, figures in self.by_place(lambda p: p.unit).items():
            for above in tree.chain(unit):
                out[above] += figures
        return dict(out)


def audience_unknown(found: Reach) -> bool:
    """Whether some chats reached are on a platform that cannot count its members (Zalo Bot):
    their audience is not counted, and their reach is the people who replied."""
    return any(
        figures.sent_chats and not CAPABILITIES[Platform(place.platform)].member_count
        for place, figures in found.places.items()
    )


def _summed(items: Iterable[tuple[Any, Figures]], key: Callable[[Any], Any]) -> dict[Any, Figures]:
    """Figures summed by `key` (a key of None leaves them out)."""
    out: dict[Any, Figures] = defaultdict(Figures)
    for k, figures in items:
        group = key(k)
        if group is not None:
            out[group] += figures
    return dict(out)


@dataclass(frozen=True)
class UnitTree:
    units: Mapping[int, Any]  # id → Row(id, code, name, kind, parent_id)

    def chain(self, unit: int) -> list[int]:
        """`unit` and the units above it, up to the ward."""
        out: list[int] = []
        current: int | None = unit
        while current is not None and current in self.units and current not in out:
            out.append(current)
            current = self.units[current].parent_id
        return out

    def of_kind(self, unit: int | None, kind: str) -> int | None:
        if unit is None:
            return None
        return next((u for u in self.chain(unit) if self.units[u].kind == kind), None)


async def unit_tree(conn: AsyncConnection) -> UnitTree:
    rows = await conn.execute(
        select(_unit.c.id, _unit.c.code, _unit.c.name, _unit.c.kind, _unit.c.parent_id)
    )
    return UnitTree({row.id: row for row in rows})


def _occurrences(f: Filter) -> Select[Any]:
    o = _occurrence.c
    query = select(o.id).where(
        o.due_at >= f.period.start,
        o.due_at < f.period.end,
        or_(o.kind.is_(None), o.kind.not_in(NOT_POSTS)),
    )
    if f.campaigns is not None:
        query = query.where(
            or_(
                literal(False),
                *(o.source.startswith(f"{CAMPAIGN}{c}/", autoescape=True) for c in f.campaigns),
            )
        )
    if f.occurrences is not None:
        query = query.where(o.id.in_(list(f.occurrences)))
    return query


def _chats_in(f: Filter) -> list[Any]:
    where: list[Any] = []
    if f.units is not None:
        where.append(_chat.c.unit_id.in_(list(f.units)))
    if f.audience is not None:
        where.append(_chat.c.audience == f.audience)
    return where


def _count(condition: Any, value: Any = 1) -> Any:
    return func.coalesce(func.sum(case((condition, value), else_=0)), 0)


async def reach(conn: AsyncConnection, f: Filter) -> Reach:
    o, d, c = _occurrence.c, _delivery.c, _chat.c
    wanted = _occurrences(f)
    post_rows = await conn.execute(
        select(o.id, o.key, o.title, o.source, o.kind, o.due_at).where(o.id.in_(wanted))
    )
    posts = {row.id: Post(*row) for row in post_rows}
    taps = _people_per_chat(wanted).subquery()
    t, status = taps.c, d.status
    sent = func.coalesce(d.audience_size, 0)
    asks_ack = cast(o.buttons, String).like(f'%"{ACK}:%')  # a button whose data is "ack:…"
    query = (
        select(
            d.occurrence_id,
            c.unit_id,
            c.audience,
            d.platform,
            _count(status == S.SENT),
            _count(status == S.SENT, sent),
            _count(and_(status == S.SENT, asks_ack), sent),
            *(func.coalesce(func.sum(col), 0) for col in (t.ack, t.quiz, t.right, t.people)),
            _count(status == S.FAILED),
            _count(status == S.UNCERTAIN),
            _count(status == S.EXPIRED),
            _count(status.in_((S.PENDING, S.RETRY_WAIT, S.IN_FLIGHT))),
            *(func.coalesce(func.sum(col), 0) for col in (t.received, t.seen)),
        )
        .join(_chat, c.id == d.chat_id)
        .join(_occurrence, o.id == d.occurrence_id)
        .outerjoin(taps, and_(t.occurrence == d.occurrence_id, t.chat == d.chat_id))
        .where(d.occurrence_id.in_(wanted), *_chats_in(f))
        .group_by(d.occurrence_id, c.unit_id, c.audience, d.platform)
    )
    # One pass over the cells (a post in each group, at a province's size tens of thousands)
    # into the two sums every roll-up is made of.
    places: dict[Any, list[int]] = {}
    post_audiences: dict[Any, list[int]] = {}
    for occurrence, unit, audience, platform, *counts in await conn.execute(query):
        _add(places, Place(unit, audience, platform), counts)
        _add(post_audiences, (occurrence, audience), counts)
    return Reach(
        posts,
        {k: Figures(*map(int, v)) for k, v in places.items()},
        {k: Figures(*map(int, v)) for k, v in post_audiences.items()},
    )


def _add(sums: dict[Any, list[int]], key: Any, counts: list[int]) -> None:
    into = sums.get(key)
    if into is None:
        sums[key] = list(counts)
    else:
        for i, n in enumerate(counts):
            into[i] += n


def _people_per_chat(wanted: Select[Any]) -> Select[Any]:
    """Per occurrence and chat, the people who tapped Đã hiểu, answered, answered right, did
    anything. A person answers a post once per kind (feedback is unique on it), so rows of a
    kind are people; an erased person's rows stay, without a person, each one person. The
    index ix_feedback_figures covers it: no table rows are read."""
    fb, answer = _feedback.c, _occurrence.alias("answer")
    right = and_(fb.kind == QUIZ, fb.value == cast(answer.c.meta["answer"].as_integer(), String))
    answered = fb.kind.not_in(RECEIPTS)
    return (
        select(
            fb.occurrence_id.label("occurrence"),
            fb.chat_id.label("chat"),
            _count(fb.kind == ACK).label("ack"),
            _count(fb.kind == QUIZ).label("quiz"),
            _count(right).label("right"),
            (
                func.count(func.distinct(case((answered, fb.person_id))))
                + _count(and_(answered, fb.person_id.is_(None)))
            ).label("people"),
            _count(fb.kind == RECEIPTS[0]).label("received"),
            _count(fb.kind == RECEIPTS[1]).label("seen"),
        )
        .join(answer, answer.c.id == fb.occurrence_id)
        .where(fb.occurrence_id.in_(wanted))
        .group_by(fb.occurrence_id, fb.chat_id)
    )


async def distinct_people(conn: AsyncConnection, f: Filter, kind: str) -> dict[int | None, int]:
    """Per unit, the people who gave feedback of `kind` on any of the occurrences: one person
    across many posts counts once (a KPI's "staff who acknowledged")."""
    fb, c = _feedback.c, _chat.c
    query = (
        select(c.unit_id, func.count(func.distinct(func.coalesce(fb.person_id, -fb.id))))
        .join(_chat, c.id == fb.chat_id)
        .where(fb.kind == kind, fb.occurrence_id.in_(_occurrences(f)), *_chats_in(f))
        .group_by(c.unit_id)
    )
    return {unit: int(n) for unit, n in await conn.execute(query)}


async def members(conn: AsyncConnection, f: Filter) -> dict[int | None, int]:
    """Per unit, the people now in its active chats (member counts without the bot)."""
    c = _chat.c
    query = (
        select(c.unit_id, func.coalesce(func.sum(c.member_count), 0))
        .where(c.active, *_chats_in(f))
        .group_by(c.unit_id)
    )
    return {unit: int(n) for unit, n in await conn.execute(query)}


STAFF_AUDIENCES = ("staff", "teachers")
STAFF_ROLES = ("school_admin", "teacher")


@dataclass(frozen=True)
class Briefing:
    """A staff group's latest post asking for Đã hiểu in a period: who was sent it (the member
    count at send time), how many acknowledged, and the staff loa knows in the group's unit
    (roles there or below) who have not."""

    chat: int
    title: str  # the group's
    unit: int
    post: str
    audience: int
    acknowledged: int
    not_acknowledged_names: list[str]

    @property
    def not_acknowledged(self) -> int:
        return max(self.audience - self.acknowledged, 0)


async def latest_briefings(
    conn: AsyncConnection, period: Period, units: Collection[int], tree: UnitTree
) -> list[Briefing]:
    """Per active staff group of `units`, its latest briefing sent in the period."""
    o, d, c = _occurrence.c, _delivery.c, _chat.c
    asks_ack = cast(o.buttons, String).like(f'%"{ACK}:%')
    rows = await conn.execute(
        select(
            c.id,
            c.title.label("chat_title"),
            c.unit_id,
            o.id.label("occurrence"),
            o.title,
            d.audience_size,
        )
        .join(_delivery, d.chat_id == c.id)
        .join(_occurrence, o.id == d.occurrence_id)
        .where(
            c.active,
            c.unit_id.in_(list(units)),
            c.audience.in_(STAFF_AUDIENCES),
            d.status == S.SENT,
            o.due_at >= period.start,
            o.due_at < period.end,
            asks_ack,
        )
        .order_by(c.id, o.due_at.desc(), o.id.desc())
    )
    latest: dict[int, Any] = {}
    for row in rows:
        latest.setdefault(row.id, row)
    if not latest:
        return []
    fb = _feedback.c
    acked: dict[tuple[int, int], set[int | None]] = defaultdict(set)
    taps = await conn.execute(
        select(fb.occurrence_id, fb.chat_id, fb.person_id, fb.id).where(
            fb.kind == ACK,
            fb.chat_id.in_(list(latest)),
            fb.occurrence_id.in_({row.occurrence for row in latest.values()}),
        )
    )
    for occurrence, chat, person, tap in taps:
        acked[occurrence, chat].add(person if person is not None else -tap)
    staff = await _staff_by_unit(conn, {row.unit_id for row in latest.values()}, tree)
    out = []
    for chat, row in latest.items():
        done = acked[row.occurrence, chat]
        names = sorted(name for person, name in staff[row.unit_id].items() if person not in done)
        audience = row.audience_size or 0
        out.append(
            Briefing(chat, row.chat_title, row.unit_id, row.title, audience, len(done), names)
        )
    return sorted(out, key=lambda b: (tree.units[b.unit].name, b.chat))


async def _staff_by_unit(
    conn: AsyncConnection, units: Collection[int], tree: UnitTree
) -> dict[int, dict[int, str]]:
    """Per unit of `units`, the people with a staff role in it or below it → display name."""
    r, p = _role.c, _person.c
    rows = await conn.execute(
        select(r.unit_id, p.id, p.display_name)
        .join(_person, p.id == r.person_id)
        .where(r.role.in_(STAFF_ROLES))
    )
    out: dict[int, dict[int, str]] = {unit: {} for unit in units}
    for unit, person, name in rows:
        for above in tree.chain(unit):
            if above in out:
                out[above][person] = name
    return out
