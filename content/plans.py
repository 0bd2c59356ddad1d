"""Plans (kế hoạch): the schema, and loading YAML plan files with "file:line: message" errors."""

from __future__ import annotations

from datetime import date
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Literal, Self

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    Strict,
    StringConstraints,
    ValidationInfo,
    field_validator,
    model_validator,
)

from bot.domain import Audience
from content.yaml_files import ContentFileError, load_model

Slug = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]*$", max_length=48)]


class Cadence(StrEnum):
    monthly = "monthly"
    quarterly = "quarterly"
    half_yearly = "half_yearly"
    yearly = "yearly"
    ad_hoc = "ad_hoc"


# YAML gives enum members as strings: let those fields (only) convert them.
AudienceName = Annotated[Audience, Strict(False)]
CadenceName = Annotated[Cadence, Strict(False)]


class _Model(BaseModel):
    model_config = ConfigDict(strict=True, extra="forbid", frozen=True)


class Target(_Model):
    """A KPI (chỉ tiêu): "ít nhất 90% phụ huynh hiểu rõ" is metric=understood, >=, 90, percent."""

    metric: Slug
    description: str = Field(min_length=1)
    comparator: Literal[">=", "<=", "="]
    unit: Literal["percent", "count"]  # before value: the value's check reads it
    value: float = Field(ge=0)
    audience: AudienceName | None = None
    per: Literal["year", "quarter", "month", "school_year"] | None = None
    by: date | None = None

    @field_validator("value")
    @classmethod
    def _percent_at_most_100(cls, value: float, info: ValidationInfo) -> float:
        if info.data.get("unit") == "percent" and value > 100:
            raise ValueError(f"a percentage cannot exceed 100 (got {value:g})")
        return value


class Task(_Model):
    """A duty under "06 rõ": who (owner), what, when, expected result, authority, with whom.

    A duty with a `deadline` reminds its owner unit's staff `remind_days_before` it and asks
    for the result. The owner unit is `owner_unit` (a units.yaml code), else the one unit
    whose name is `owner` (ignoring case and diacritics)."""

    owner: str = Field(min_length=1)
    what: str = Field(min_length=1)
    deadline: date | None = None
    result: str | None = None
    authority: str | None = None
    collaborators: list[str] = []
    owner_unit: (
        Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9-]*$", max_length=64)] | None
    ) = None
    remind_days_before: int = Field(default=7, ge=0, le=60)


class Period(_Model):
    start: int | date
    end: int | date

    @model_validator(mode="after")
    def _ordered(self) -> Self:
        def year(v: int | date) -> int:
            return v if isinstance(v, int) else v.year

        if year(self.end) < year(self.start):
            raise ValueError("period ends before it starts")
        return self


class Plan(_Model):
    id: Slug
    title: str = Field(min_length=1)
    issuing_unit: str = Field(min_length=1)
    issued_on: date | None = None
    legal_bases: list[str] = []
    period: Period
    targets: list[Target] = []
    themes: list[str] = []
    audiences: list[AudienceName] = []
    channels: list[str] = []
    duties: list[Task] = []
    reporting: list[CadenceName] = []


class PlanFileError(ContentFileError):
    pass


def load_plan(path: Path) -> Plan:
    """Load and validate one plan file; raise PlanFileError with "file:line: message" lines."""
    try:
        return load_model(path, Plan, "plan")[0]
    except ContentFileError as e:
        raise PlanFileError(e.problems) from e


def check_plans(folder: Path) -> list[str]:
    """Problems of every plans/*.yaml in a content folder, plus duplicate ids."""
    problems: list[str] = []
    seen: dict[str, Path] = {}
    for path in sorted(folder.glob("*.yaml")):
        try:
            plan = load_plan(path)
        except PlanFileError as e:
            problems.extend(e.problems)
            continue
        if plan.id in seen:
            problems.append(f"{path}:1: id {plan.id!r} is already used by {seen[plan.id]}")
        seen[plan.id] = path
    return problems
