"""Campaigns (đợt truyền thông) and their posts: the schema of content/campaigns/*.yaml."""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta, timezone
from datetime import time as clock_time
from enum import StrEnum
from typing import Annotated, Any, Literal, Self

from pydantic import Field, Strict, StringConstraints, field_validator, model_validator

from content.plans import AudienceName, Slug, _Model

UnitCode = Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9-]*$", max_length=64)]
TemplatePath = Annotated[str, StringConstraints(pattern=r"^posts/[a-z0-9_][a-z0-9_/-]*\.j2$")]
Label = Annotated[str, StringConstraints(min_length=1, max_length=64)]
Variable = str | int | float | bool | date | list[str]
VN_OFFSET = timedelta(hours=7)
VN = timezone(VN_OFFSET)
_TIME = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")


class Kind(StrEnum):
    resolution_summary = "resolution_summary"
    club_notice = "club_notice"
    announcement = "announcement"
    exemplar_story = "exemplar_story"
    quiz = "quiz"
    reminder = "reminder"


class Weekday(StrEnum):
    monday = "monday"
    tuesday = "tuesday"
    wednesday = "wednesday"
    thursday = "thursday"
    friday = "friday"
    saturday = "saturday"
    sunday = "sunday"

    @property
    def number(self) -> int:
        """Monday is 0, as date.weekday() counts."""
        return list(Weekday).index(self)


KindName = Annotated[Kind, Strict(False)]
WeekdayName = Annotated[Weekday, Strict(False)]


class Recurrence(_Model):
    """`every: {weekday: thursday, time: "16:30", from: 2026-09-03, until: 2027-05-27}`."""

    weekday: WeekdayName
    time: str
    from_: date = Field(alias="from")
    until: date

    @field_validator("time", mode="before")
    @classmethod
    def _clock(cls, value: Any) -> Any:
        if isinstance(value, int):  # YAML 1.1 reads 16:30 unquoted as 990 (base 60)
            raise ValueError('write the time in quotes, like "16:30"')
        if isinstance(value, str) and not _TIME.match(value):
            raise ValueError(f'{value!r} is not a time of day like "16:30"')
        return value

    @model_validator(mode="after")
    def _ordered(self) -> Self:
        if self.until <= self.from_:
            raise ValueError(f"until ({self.until}) must be after from ({self.from_})")
        return self

    @property
    def clock(self) -> clock_time:
        hours, minutes = self.time.split(":")
        return clock_time(int(hours), int(minutes))


class Schedule(_Model):
    """Either once (`at`, Vietnam time) or a weekly recurrence (`every`), less `skip` dates."""

    at: Annotated[datetime, Strict(False)] | None = None
    every: Recurrence | None = None
    skip: list[date] = Field(default_factory=list)

    @field_validator("at")
    @classmethod
    def _vietnam_time(cls, value: datetime | None) -> datetime | None:
        if value is not None and value.utcoffset() != VN_OFFSET:
            raise ValueError("give the time with its offset, like 2026-09-05T07:30:00+07:00")
        return value

    @model_validator(mode="after")
    def _one_kind(self) -> Self:
        if (self.at is None) == (self.every is None):
            raise ValueError("give exactly one of `at` (once) or `every` (weekly)")
        if self.skip and self.every is None:
            raise ValueError("`skip` applies only to a recurrence (`every`)")
        if self.every is not None:
            for day in self.skip:
                if day.weekday() != self.every.weekday.number:
                    raise ValueError(f"skip date {day} is not a {self.every.weekday.value}")
                if not self.every.from_ <= day <= self.every.until:
                    raise ValueError(f"skip date {day} is outside from..until")
        return self

    def occurrences(self) -> list[datetime]:
        """Every due time, in Vietnam time (+07:00)."""
        if self.at is not None:
            return [self.at]
        assert self.every is not None
        every = self.every
        day = every.from_ + timedelta(days=(every.weekday.number - every.from_.weekday()) % 7)
        due: list[datetime] = []
        while day <= every.until:
            if day not in self.skip:
                due.append(datetime.combine(day, every.clock, tzinfo=VN))
            day += timedelta(days=7)
        return due


class Ack(_Model):
    label: Label = "Đã hiểu"


class Quiz(_Model):
    question: str = Field(min_length=1, max_length=300)
    options: list[Label] = Field(min_length=2, max_length=6)
    answer: int = Field(ge=0)
    # Sent in private to whoever answers wrong, where loa has a private chat with them.
    explanation: str | None = Field(default=None, min_length=1, max_length=1000)

    @model_validator(mode="after")
    def _answer_in_range(self) -> Self:
        if self.answer >= len(self.options):
            raise ValueError(
                f"answer {self.answer} is out of range: options are numbered "
                f"0..{len(self.options) - 1}"
            )
        return self


class Rsvp(_Model):
    options: list[Label] = Field(min_length=2, max_length=6)
    yes: int = Field(default=0, ge=0)  # the option that means "will come": they are reminded
    # Hours from the notice to the session it announces: a day before the session, those who
    # said yes are reminded in private. None: no reminder.
    session_after: int | None = Field(default=None, gt=0, le=60 * 24)

    @model_validator(mode="after")
    def _yes_in_range(self) -> Self:
        if self.yes >= len(self.options):
            raise ValueError(f"yes {self.yes} is out of range: options are numbered from 0")
        return self


class Post(_Model):
    id: Slug
    kind: KindName
    audiences: list[AudienceName] = Field(min_length=1)
    units: Literal["all"] | list[UnitCode] = "all"
    schedule: Schedule
    valid_for: int | None = Field(default=None, gt=0, le=24 * 60, description="hours")
    valid_until: Annotated[datetime, Strict(False)] | None = None
    template: TemplatePath
    variables: dict[str, Variable] = Field(default_factory=dict)
    ack: Ack | None = None
    quiz: Quiz | None = None
    rsvp: Rsvp | None = None

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        answers = [name for name in ("ack", "quiz", "rsvp") if getattr(self, name) is not None]
        if len(answers) > 1:
            raise ValueError(f"give at most one of ack, quiz, rsvp (got {', '.join(answers)})")
        if (self.kind == Kind.quiz) != (self.quiz is not None):
            raise ValueError("a post of kind quiz needs `quiz`, and only such a post has one")
        if self.valid_for is not None and self.valid_until is not None:
            raise ValueError("give valid_for or valid_until, not both")
        if self.valid_until is not None:
            if self.valid_until.utcoffset() != VN_OFFSET:
                raise ValueError("valid_until needs its offset, like 2026-09-30T23:59:00+07:00")
            last = self.schedule.occurrences()[-1:] or [self.valid_until]
            if self.valid_until <= last[0]:
                raise ValueError("valid_until must be after the post's last due time")
        if isinstance(self.units, list) and not self.units:
            raise ValueError('units: list at least one unit code, or write "all"')
        return self


class Campaign(_Model):
    id: Slug
    plan: Slug
    title: str = Field(min_length=1)
    posts: list[Post] = Field(min_length=1)
