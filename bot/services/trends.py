"""Feedback trends: a weekly look, per unit, at the volume of feedback and the share of it that is
negative against the four weeks before, and a watch for bursts of misinformation reports on one
topic. Either sends the unit's officials an alert in private chat, through the outbox.

It reads feedback through a small shape (`Feedback`: unit, time, category, sentiment, text) from
a `FeedbackSource`, so it does not care which table holds the texts. The rules and their numbers
are in docs/feedback.md#trends.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Final, NamedTuple, Protocol

from sqlmodel import col, select

from bot.domain import Platform
from bot.services.broadcasts import Broadcast, enqueue
from bot.services.classify.features import normalize
from bot.services.people import private_chat
from bot.services.permissions import Action, deciders
from bot.services.redact import excerpt
from bot.storage.db import Database
from bot.storage.models import Unit, utcnow
from content.templates import Templates

log = logging.getLogger(__name__)


class Feedback(NamedTuple):
    """One free-text item as trends read it; a plain tuple in this order works as well."""

    unit_id: int
    created_at: datetime
    category: str
    sentiment: str
    text: str


Row = Feedback | tuple[int, datetime, str, str, str]
# Feedback created in [start, end), from wherever the lead's tables keep it.
FeedbackSource = Callable[[datetime, datetime], Awaitable[Iterable[Row]]]

WEEK: Final = timedelta(days=7)
BASELINE_WEEKS: Final = 4
MIN_VOLUME: Final = 5  # fewer items in a week say nothing about a trend
SHARE_FLOOR: Final = 0.4  # a negative share below this is not alarming, however it rose
SHARE_RISE: Final = 0.2  # 20 percentage points above the previous four weeks
NEGATIVE_FLOOR: Final = 5  # negative items in a week before their number can be "a rise"
NEGATIVE_FACTOR: Final = 2.0  # ... and at least twice the weekly mean of the four weeks before
BURST_WINDOW: Final = timedelta(hours=3)
BURST_MIN: Final = 3  # misinformation reports on one topic within the window
SHARED_WORDS: Final = 2  # two reports are on one topic when they share this many keywords
EXAMPLES: Final = 3


@dataclass(frozen=True)
class Rise:
    """A unit whose week stands out: what the weekly alert says."""

    unit_id: int
    week_start: datetime
    week_end: datetime
    volume: int
    negatives: int
    share: float
    baseline_share: float
    baseline_weekly: float  # mean items a week over the four weeks before
    baseline_negatives: float  # mean negative items a week over the four weeks before
    category: str  # the category most of this week's negative items are in
    examples: tuple[str, ...]


@dataclass(frozen=True)
class Burst:
    """Misinformation reports on one topic within BURST_WINDOW."""

    unit_ids: tuple[int, ...]
    first_unit: int  # where its first report came from
    first_at: datetime
    last_at: datetime
    reports: int
    keywords: tuple[str, ...]
    examples: tuple[str, ...]


def rises(items: Iterable[Row], now: datetime) -> list[Rise]:
    """The units whose last seven days before `now` show a sharp rise against the 28 days
    before: a negative share of at least SHARE_FLOOR and SHARE_RISE above the baseline's, or
    at least NEGATIVE_FLOOR negative items and NEGATIVE_FACTOR times the baseline's weekly
    mean; either with at least MIN_VOLUME items in the week."""
    start, baseline_start = now - WEEK, now - WEEK * (1 + BASELINE_WEEKS)
    week: dict[int, list[Feedback]] = {}
    before: dict[int, list[Feedback]] = {}
    for item in map(Feedback._make, items):
        if start <= item.created_at < now:
            week.setdefault(item.unit_id, []).append(item)
        elif baseline_start <= item.created_at < start:
            before.setdefault(item.unit_id, []).append(item)
    found = []
    for unit_id, these in sorted(week.items()):
        old = before.get(unit_id, [])
        negative = [i for i in these if i.sentiment == "negative"]
        old_negative = sum(1 for i in old if i.sentiment == "negative")
        share = len(negative) / len(these)
        old_share = old_negative / len(old) if old else 0.0
        old_weekly_negative = old_negative / BASELINE_WEEKS
        share_rose = share >= SHARE_FLOOR and share - old_share >= SHARE_RISE
        count_rose = len(negative) >= max(NEGATIVE_FLOOR, NEGATIVE_FACTOR * old_weekly_negative)
        if len(these) < MIN_VOLUME or not (share_rose or count_rose):
            continue
        category = _most_common(i.category for i in negative)
        examples = [i for i in negative if i.category == category]
        found.append(
            Rise(
                unit_id=unit_id,
                week_start=start,
                week_end=now,
                volume=len(these),
                negatives=len(negative),
                share=share,
                baseline_share=old_share,
                baseline_weekly=len(old) / BASELINE_WEEKS,
                baseline_negatives=old_weekly_negative,
                category=category,
                examples=_examples(examples),
            )
        )
    return found


def bursts(items: Iterable[Row], now: datetime) -> list[Burst]:
    """Groups of at least BURST_MIN misinformation reports within BURST_WINDOW before `now`
    that are on one topic: each shares SHARED_WORDS keywords with the group's first report."""
    recent = sorted(
        (
            i
            for i in map(Feedback._make, items)
            if i.category == "misinformation" and now - BURST_WINDOW <= i.created_at <= now
        ),
        key=lambda i: i.created_at,
    )
    # A report joins the first group whose first report it shares SHARED_WORDS keywords with:
    # comparing with the first report, not with any member, keeps one group from chaining
    # through shared words into every rumour of the day.
    groups: list[tuple[list[Feedback], list[set[str]]]] = []
    for item in recent:
        words = keywords(item.text)
        group = next((g for g in groups if len(words & g[1][0]) >= SHARED_WORDS), None)
        if group is None:
            groups.append(([item], [words]))
        else:
            group[0].append(item)
            group[1].append(words)
    found = []
    for members, word_sets in groups:
        if len(members) < BURST_MIN:
            continue
        members.sort(key=lambda i: i.created_at)
        counts = Counter(w for ws in word_sets for w in ws)
        found.append(
            Burst(
                unit_ids=tuple(sorted({i.unit_id for i in members})),
                first_unit=members[0].unit_id,
                first_at=members[0].created_at,
                last_at=members[-1].created_at,
                reports=len(members),
                keywords=tuple(sorted(w for w, n in counts.most_common(3) if n > 1)),
                examples=_examples(members),
            )
        )
    return found


# Words that say nothing about what a rumour is about (folded): function words, and the words
# every report or school message has.
_STOPWORD_LIST: Final = (
    "a ai anh ba bao bi biet bo ca cac cai can chi chia cho chua clip co con cua da dang day de "
    "den di do don dung duoc em facebook gi gia giup hay hoc hoi hom huynh khi khong la lai lan "
    "len ma mai mang minh moi mot nay nao ne nghe nguoi nhan nhe nhom nhu nhung noi o oi phai "
    "phu qua ra rang roi sai sau se share sinh tai than that the thi thong tiktok tin toi tren "
    "trong truong truyen va vao vay ve vi voi xac xin zalo nam tu lop tuan sap"
)
_STOPWORDS: Final = frozenset(_STOPWORD_LIST.split())


def keywords(text: str) -> set[str]:
    """The content words of a report, folded: what two reports on one topic share."""
    return {w for w in normalize(text) if len(w) > 1 and w not in _STOPWORDS and not w.isdigit()}


def _examples(items: Sequence[Feedback]) -> tuple[str, ...]:
    """Up to EXAMPLES excerpts, the latest first, no two alike."""
    seen: dict[str, None] = {}
    for item in sorted(items, key=lambda i: i.created_at, reverse=True):
        seen.setdefault(excerpt(item.text), None)
    return tuple(list(seen)[:EXAMPLES])


def _most_common(values: Iterable[str]) -> str:
    counts = Counter(values)
    return min(counts, key=lambda v: (-counts[v], v)) if counts else "other"


async def officials(db: Database, unit_ids: Iterable[int]) -> list[int]:
    """The private chats of the officials whose scope covers every one of `unit_ids`, on every
    platform (rows for private chats are made on the way, as for task reminders)."""
    units = sorted(set(unit_ids))
    async with db.session() as session:
        chats = []
        for platform in Platform:
            for person in await deciders(session, Action.SEE_TRENDS, units, None, platform.value):
                chats.append(await private_chat(session, person))
        await session.commit()
    return chats


async def _unit_names(db: Database, unit_ids: Iterable[int]) -> list[str]:
    async with db.session() as session:
        rows = await session.exec(select(Unit.name).where(col(Unit.id).in_(sorted(set(unit_ids)))))
        return sorted(rows.all())


async def alert_rises(
    db: Database, templates: Templates, source: FeedbackSource, now: datetime
) -> int:
    """The weekly look: an alert to its officials for every unit with a sharp rise. Returns
    the alerts enqueued; one per unit and week, however often it runs."""
    items = await source(now - WEEK * (1 + BASELINE_WEEKS), now)
    sent = 0
    for rise in rises(items, now):
        names = await _unit_names(db, [rise.unit_id])
        chats = await officials(db, [rise.unit_id])
        if not chats:
            log.warning("feedback rise in unit %d, but no official to tell", rise.unit_id)
            continue
        item = Broadcast(
            key=f"trend:week:{rise.unit_id}:{rise.week_end:%Y-%m-%d}",
            title=f"Xu hướng phản hồi: {', '.join(names)}"[:255],
            text=templates.render("trend_rise", rise=rise, unit_name=", ".join(names)),
            due_at=now,
            kind="alert",
            source=f"trends:unit:{rise.unit_id}",
        )
        await enqueue(db, item, chats)
        sent += 1
    log.info("weekly feedback trends: %d alert(s)", sent)
    return sent


async def alert_bursts(
    db: Database, templates: Templates, source: FeedbackSource, now: datetime
) -> int:
    """Alert the officials over the units concerned of every misinformation burst, at once
    (urgent: rumours do not wait for morning). One alert per burst: its key is its first
    report's time and unit, so a burst that grows is not announced again (one still going
    when its first report leaves the window is, once more)."""
    sent = 0
    for burst in bursts(await source(now - BURST_WINDOW, now), now):
        chats = await officials(db, burst.unit_ids)
        if not chats:  # no one over all the units: tell each unit's officials
            chats = sorted({c for u in burst.unit_ids for c in await officials(db, [u])})
        if not chats:
            log.warning("misinformation burst in %d unit(s), but no official", len(burst.unit_ids))
            continue
        names = await _unit_names(db, burst.unit_ids)
        item = Broadcast(
            key=f"trend:burst:{burst.first_at:%Y%m%dT%H%M%S}:{burst.first_unit}",
            title="Nhiều báo tin sai cùng một chủ đề",
            text=templates.render("trend_burst", burst=burst, unit_names=names),
            due_at=now,
            urgent=True,
            kind="alert",
            source="trends:burst",
        )
        await enqueue(db, item, chats)
        sent += 1
    return sent


class Repeats(Protocol):
    """What runs a job on a schedule (scheduler.runner.Scheduler)."""

    def every(
        self,
        job_id: str,
        job: Callable[[], Awaitable[object]],
        interval: timedelta | None = None,
        **cron: int | str,
    ) -> None: ...


def schedule(
    scheduler: Repeats, db: Database, templates: Templates, source: FeedbackSource
) -> None:
    """The trends' jobs: the weekly look on Monday at 07:30, the burst watch every 10 minutes
    (a report handler may also call `alert_bursts` itself, right after storing a report)."""

    async def weekly() -> None:
        await alert_rises(db, templates, source, utcnow())

    async def watch() -> None:
        await alert_bursts(db, templates, source, utcnow())

    scheduler.every("trends:weekly", weekly, day_of_week="mon", hour=7, minute=30)
    scheduler.every("trends:bursts", watch, minute="*/10")
