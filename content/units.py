"""The ward as its official describes it: content/units.yaml.

wards → departments, schools → classes, residential groups (tổ dân phố). Codes are what
campaigns, invites and group binding name; a class's code is its school's code and the class
name folded ("th-kim-dong" + "Lớp 1A" → "th-kim-dong-1a") unless the file gives one.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import yaml
from pydantic import Field, Strict, StringConstraints

from bot.domain import UnitKind as Kind
from bot.text import fold
from content.plans import Plan, _Model
from content.yaml_files import ContentFileError, line_of, load_model

UnitCode = Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9-]*$", max_length=64)]
Name = Annotated[str, StringConstraints(min_length=1, max_length=200)]
UNITS_FILE = "units.yaml"


class Level(StrEnum):
    mam_non = "mam_non"
    tieu_hoc = "tieu_hoc"
    thcs = "thcs"
    thpt = "thpt"
    lien_cap = "lien_cap"


class Named(_Model):
    code: UnitCode
    name: Name


class SchoolClass(_Model):
    name: Name
    code: UnitCode | None = None


class School(_Model):
    code: UnitCode
    name: Name
    level: Annotated[Level, Strict(False)]
    classes: list[Name | SchoolClass] = Field(default_factory=list)


class Ward(_Model):
    code: UnitCode
    name: Name
    departments: list[Named] = Field(default_factory=list)
    schools: list[School] = Field(default_factory=list)
    residential_groups: list[Named] = Field(default_factory=list)


class UnitsFile(_Model):
    wards: list[Ward] = Field(min_length=1)


@dataclass(frozen=True)
class UnitSpec:
    """One unit, flattened: parents come before their children."""

    code: str
    name: str
    kind: Kind
    parent: str | None = None
    level: Level | None = None
    loc: tuple[int | str, ...] = ()  # where it is in the file, for problems


def class_code(school_code: str, class_name: str) -> str:
    slug = re.sub(r"[^a-z0-9]+", "-", fold(class_name)).strip("-")
    slug = slug.removeprefix("lop-") or slug
    return f"{school_code}-{slug}"[:64]


def flatten(units: UnitsFile) -> list[UnitSpec]:
    specs: list[UnitSpec] = []
    for w, ward in enumerate(units.wards):
        here: tuple[int | str, ...] = ("wards", w)
        specs.append(UnitSpec(ward.code, ward.name, Kind.ward, loc=(*here, "code")))
        for i, d in enumerate(ward.departments):
            loc = (*here, "departments", i, "code")
            specs.append(UnitSpec(d.code, d.name, Kind.department, ward.code, loc=loc))
        for i, school in enumerate(ward.schools):
            at = (*here, "schools", i)
            specs.append(
                UnitSpec(
                    school.code, school.name, Kind.school, ward.code, school.level, (*at, "code")
                )
            )
            for j, item in enumerate(school.classes):
                name = item if isinstance(item, str) else item.name
                code = item.code if isinstance(item, SchoolClass) and item.code else None
                code = code or class_code(school.code, name)
                specs.append(
                    UnitSpec(code, name, Kind.class_, school.code, loc=(*at, "classes", j))
                )
        for i, g in enumerate(ward.residential_groups):
            loc = (*here, "residential_groups", i, "code")
            specs.append(UnitSpec(g.code, g.name, Kind.residential_group, ward.code, loc=loc))
    return specs


def load_units(path: Path) -> list[UnitSpec]:
    """The units of a units.yaml; ContentFileError lists every problem as "file:line: message"."""
    model, root = load_model(path, UnitsFile, "units")
    specs = flatten(model)
    problems = _duplicates(path, root, specs)
    if problems:
        raise ContentFileError(problems)
    return specs


def check_units(folder: Path) -> list[str]:
    path = folder / UNITS_FILE
    if not path.is_file():
        return []
    try:
        load_units(path)
    except ContentFileError as e:
        return e.problems
    return []


def unit_codes(folder: Path) -> set[str] | None:
    """The codes a content folder's units.yaml defines; None without a valid file."""
    path = folder / UNITS_FILE
    try:
        return {spec.code for spec in load_units(path)} if path.is_file() else None
    except ContentFileError:
        return None


def unknown_unit_references(folder: Path) -> list[str]:
    """Campaign posts and plan duties naming a unit code the folder's units.yaml lacks."""
    from content.campaign.check import load_campaigns

    codes = unit_codes(folder)
    if codes is None:
        return []
    problems = []
    for item in load_campaigns(folder)[0]:
        for i, post in enumerate(item.campaign.posts):
            if isinstance(post.units, list):
                for j, code in enumerate(post.units):
                    if code not in codes:
                        line = item.line("posts", i, "units", j)
                        problems.append(
                            f"{item.path}:{line}: posts.{i}.units: no unit {code!r} in "
                            f"{folder / UNITS_FILE}"
                        )
    for path in sorted((folder / "plans").glob("*.yaml")):
        try:
            plan, root = load_model(path, Plan, "plan")
        except ContentFileError:
            continue  # check_plans reports it
        for i, duty in enumerate(plan.duties):
            if duty.owner_unit is not None and duty.owner_unit not in codes:
                line = line_of(root, ("duties", i, "owner_unit"))
                problems.append(
                    f"{path}:{line}: duties.{i}.owner_unit: no unit {duty.owner_unit!r} in "
                    f"{folder / UNITS_FILE}"
                )
    return problems


def _duplicates(path: Path, root: yaml.Node, specs: list[UnitSpec]) -> list[str]:
    seen: dict[str, UnitSpec] = {}
    problems = []
    for spec in specs:
        first = seen.setdefault(spec.code, spec)
        if first is not spec:
            problems.append(
                f"{path}:{line_of(root, spec.loc)}: unit code {spec.code!r} is already used "
                f"at line {line_of(root, first.loc)} (give the class a `code`)"
            )
    return problems
