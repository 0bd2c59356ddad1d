"""units.yaml: the ward's units, checked like the rest of the content."""

from __future__ import annotations

import shutil
from pathlib import Path

from bot.config import DEFAULT_CONTENT_DIR
from content.check import check_content
from content.units import class_code, load_units


def test_the_shipped_units_load_in_tree_order() -> None:
    specs = load_units(DEFAULT_CONTENT_DIR / "units.yaml")
    seen: set[str] = set()
    for spec in specs:
        assert spec.parent is None or spec.parent in seen, "parents come first"
        seen.add(spec.code)
    assert {s.kind.value for s in specs} == {
        "ward", "department", "school", "class", "residential_group"
    }  # fmt: skip
    assert class_code("th-kim-dong", "Lớp 1A") == "th-kim-dong-1a"
    assert class_code("mn-hoa-sen", "Lớp Chồi 2") == "mn-hoa-sen-choi-2"


def content_with(tmp_path: Path, units: str) -> Path:
    folder = tmp_path / "content"
    shutil.copytree(DEFAULT_CONTENT_DIR, folder)
    (folder / "units.yaml").write_text(units, encoding="utf-8")
    return folder


def test_each_problem_is_named_with_file_and_line(tmp_path: Path) -> None:
    folder = content_with(
        tmp_path,
        """wards:
- code: phuong-x
  name: Phường X
  schools:
  - code: th-x
    name: Trường X
    level: dai_hoc
  - code: thcs-x
    name: Trường THCS X
    level: thcs
    classes: [Lớp 6A, "Lớp 6-A"]
  residential_groups:
  - {code: Tổ 1, name: Tổ dân phố 1}
""",
    )
    problems = check_content(folder)
    units = str(folder / "units.yaml")
    assert any(p.startswith(f"{units}:7: wards.0.schools.0.level:") for p in problems), problems
    assert any(p.startswith(f"{units}:13: wards.0.residential_groups.0.code:") for p in problems)


def test_duplicate_codes_and_unknown_references(tmp_path: Path) -> None:
    folder = content_with(
        tmp_path,
        """wards:
- code: phuong-x
  name: Phường X
  schools:
  - code: thcs-x
    name: Trường THCS X
    level: thcs
    classes: [Lớp 6A, lớp 6a]
""",
    )
    units = str(folder / "units.yaml")
    problems = check_content(folder)
    assert any(
        p.startswith(f"{units}:8: unit code 'thcs-x-6a' is already used at line 8")
        for p in problems
    ), problems
    # A campaign naming a unit the (valid) units.yaml lacks.
    (folder / "units.yaml").write_text(
        (DEFAULT_CONTENT_DIR / "units.yaml").read_text(encoding="utf-8"), encoding="utf-8"
    )
    campaign = folder / "campaigns" / "viet-yen-nq71.yaml"
    example = folder / "examples" / "campaigns" / campaign.name
    text = example.read_text(encoding="utf-8").replace("units: all", "units: [th-khong-co]", 1)
    campaign.write_text(text, encoding="utf-8")
    problems = check_content(folder)
    assert any(p.startswith(f"{campaign}:") and "no unit 'th-khong-co'" in p for p in problems), (
        problems
    )
