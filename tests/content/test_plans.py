"""Plan files: the schema, and "file:line: message" problems from `loa content check`."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.cli import main
from content.plans import PlanFileError, check_plans, load_plan

REPO = Path(__file__).resolve().parents[2]

BAD = """\
id: bad_plan
issuing_unit: UBND phường Mẫu
period:
  start: 2026
  end: 2026
targets:
  - metric: understood
    description: Ít nhất 90% phụ huynh hiểu rõ
    comparator: ">"
    value: 90
    unit: percent
  - metric: briefed
    description: 120% cán bộ được quán triệt
    comparator: "="
    value: 120
    unit: percent
    audience: staff
reporting: [quarterly, weekly]
colour: red
"""


def _bad_folder(tmp_path: Path) -> Path:
    (tmp_path / "plans").mkdir()
    (tmp_path / "plans" / "bad.yaml").write_text(BAD, encoding="utf-8")
    return tmp_path


def test_bad_plan_problems_point_at_lines(tmp_path: Path) -> None:
    path = _bad_folder(tmp_path) / "plans" / "bad.yaml"
    with pytest.raises(PlanFileError) as caught:
        load_plan(path)
    lines = {p.split(": ", 1)[0]: p for p in caught.value.problems}
    assert f"{path}:1" in lines and "title: Field required" in lines[f"{path}:1"]
    assert "targets.0.comparator" in lines[f"{path}:9"]
    assert "targets.1.value: a percentage cannot exceed 100" in lines[f"{path}:15"]
    assert "reporting.1" in lines[f"{path}:18"]
    assert "colour: Extra inputs are not permitted" in lines[f"{path}:19"]


def test_content_check_prints_problems_and_exits_1(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = _bad_folder(tmp_path)
    assert main(["content", "check", str(folder)]) == 1
    out = capsys.readouterr().out.splitlines()
    path = folder / "plans" / "bad.yaml"
    assert len(out) == 5
    assert all(line.startswith(f"{path}:") for line in out)


def test_yaml_syntax_error_has_a_line(tmp_path: Path) -> None:
    (tmp_path / "broken.yaml").write_text("id: x\ntitle: [unclosed\n", encoding="utf-8")
    [problem] = check_plans(tmp_path)
    assert problem.startswith(f"{tmp_path / 'broken.yaml'}:")


def test_shipped_plans_are_valid() -> None:
    assert sorted(p.name for p in (REPO / "content" / "examples" / "plans").glob("*.yaml")) == [
        "bac-kan-ngoai-ngu-2026-2030.yaml",
        "hong-bang-tb144.yaml",
        "viet-yen-nq71.yaml",
    ]
    assert check_plans(REPO / "content" / "examples" / "plans") == []
