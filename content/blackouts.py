"""Blackout dates (content/blackouts.yaml): days nothing scheduled goes out — Tết, exam days.

A recurring post skips its occurrences on these days; a one-off post dated on one is an error,
since skipping it would drop the post altogether.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Self

import yaml
from pydantic import Field, model_validator

from content.campaign.check import load_campaigns
from content.campaign.schema import VN, Post
from content.plans import _Model
from content.yaml_files import ContentFileError, line_of, load_model

FILE = "blackouts.yaml"


class Blackout(_Model):
    from_: date = Field(alias="from")
    until: date  # inclusive
    reason: str = Field(min_length=1, max_length=200)

    @model_validator(mode="after")
    def _ordered(self) -> Self:
        if self.until < self.from_:
            raise ValueError(f"until ({self.until}) is before from ({self.from_})")
        return self

    def covers(self, day: date) -> bool:
        return self.from_ <= day <= self.until


class BlackoutFile(_Model):
    blackouts: list[Blackout] = Field(default_factory=list)


@dataclass(frozen=True)
class Blackouts:
    entries: tuple[Blackout, ...] = ()
    path: Path | None = None
    root: yaml.Node | None = field(default=None, repr=False, compare=False)

    def on(self, day: date) -> tuple[int, Blackout] | None:
        """The first blackout covering `day` (a date in Vietnam time) and its index."""
        return next(((i, b) for i, b in enumerate(self.entries) if b.covers(day)), None)

    def where(self, index: int) -> str:
        """ "file:line" of the blackout at `index`."""
        line = line_of(self.root, ("blackouts", index)) if self.root is not None else 1
        return f"{self.path}:{line}"


def load_blackouts(folder: Path) -> Blackouts:
    """The blackouts of a content folder (none without the file); ContentFileError when the
    file is wrong, with "file:line: message" per problem."""
    path = folder / FILE
    if not path.is_file():
        return Blackouts()
    parsed, root = load_model(path, BlackoutFile, "blackouts")
    return Blackouts(tuple(parsed.blackouts), path, root)


def due_times(post: Post, blackouts: Blackouts) -> list[datetime]:
    """The post's due times (Vietnam time) less, for a recurrence, those on blackout days."""
    due = post.schedule.occurrences()
    if post.schedule.every is None:
        return due
    return [t for t in due if blackouts.on(t.astimezone(VN).date()) is None]


def check_blackouts(folder: Path) -> list[str]:
    """Problems of blackouts.yaml, and one-off posts dated on a blackout day."""
    try:
        blackouts = load_blackouts(folder)
    except ContentFileError as e:
        return e.problems
    problems: list[str] = []
    loaded, _ = load_campaigns(folder)  # their own problems are check_campaigns' to report
    for item in loaded:
        for i, post in enumerate(item.campaign.posts):
            at = post.schedule.at
            hit = blackouts.on(at.astimezone(VN).date()) if at is not None else None
            if at is not None and hit is not None:
                index, blackout = hit
                problems.append(
                    f"{item.path}:{item.line('posts', i, 'schedule', 'at')}: post {post.id} is "
                    f"due on {at.date()}, a blackout day ({blackout.reason}, "
                    f"{blackouts.where(index)}): move it to another day"
                )
    return problems
