"""Plans (kế hoạch): the schema, and loading YAML plan files with "file:line: message" errors."""

from __future__ import annotations

from datetime import date
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any, Literal, Self

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    Strict,
    StringConstraints,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)

Slug = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]*$", max_length=48)]


class Audience(StrEnum):
    parents = "parents"
    students = "students"
    teachers = "teachers"
    staff = "staff"
    managers = "managers"
    officials = "officials"
    community = "community"
    businesses = "businesses"


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
    """A duty under "06 rõ": who (owner), what, when, expected result, authority, with whom."""

    owner: str = Field(min_length=1)
    what: str = Field(min_length=1)
    deadline: date | None = None
    result: str | None = None
    authority: str | None = None
    collaborators: list[str] = []


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


class PlanFileError(Exception):
    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems


def load_plan(path: Path) -> Plan:
    """Load and validate one plan file; raise PlanFileError with "file:line: message" lines."""
    text = path.read_text(encoding="utf-8")
    try:
        root = yaml.compose(text)
        data = yaml.safe_load(text)
    except yaml.MarkedYAMLError as e:
        line = e.problem_mark.line + 1 if e.problem_mark else 1
        raise PlanFileError([f"{path}:{line}: {e.problem}"]) from e
    if not isinstance(data, dict) or root is None:
        raise PlanFileError([f"{path}:1: a plan file must be a mapping"])
    try:
        return Plan.model_validate(data)
    except ValidationError as e:
        problems = []
        for err in e.errors():
            where = ".".join(str(p) for p in err["loc"]) or "plan"
            line = _line_of(root, err["loc"])
            problems.append(f"{path}:{line}: {where}: {_message(err)}")
        raise PlanFileError(problems) from e


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


def _message(err: Any) -> str:
    msg = str(err["msg"])
    return msg.removeprefix("Value error, ")


def _line_of(node: yaml.Node, loc: tuple[int | str, ...]) -> int:
    """The 1-based line of the YAML node at `loc`: a missing key points at its parent mapping,
    an unexpected or invalid key at the key itself."""
    mark = node.start_mark
    for i, part in enumerate(loc):
        child: yaml.Node | None = None
        if isinstance(node, yaml.MappingNode):
            for key, value in node.value:
                if key.value == str(part):
                    last = i == len(loc) - 1
                    mark = key.start_mark if last and not _is_scalar(value) else value.start_mark
                    child = value
                    break
        elif (
            isinstance(node, yaml.SequenceNode) and isinstance(part, int) and part < len(node.value)
        ):
            child = node.value[part]
            mark = child.start_mark
        if child is None:
            break
        node = child
    return mark.line + 1


def _is_scalar(node: yaml.Node) -> bool:
    return isinstance(node, yaml.ScalarNode)
