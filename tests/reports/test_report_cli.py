"""`loa report` and `loa bench report` as an operator runs them."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
from openpyxl import load_workbook

from bot.cli import main
from bot.config import DEFAULT_CONTENT_DIR

EXAMPLES = DEFAULT_CONTENT_DIR / "examples"


@pytest.fixture
def loa(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty database and a content folder holding the Việt Yên plan and its campaign."""
    content = tmp_path / "content"
    for folder, name in (("plans", "viet-yen-nq71.yaml"), ("campaigns", "viet-yen-nq71.yaml")):
        (content / folder).mkdir(parents=True)
        shutil.copy(EXAMPLES / folder / name, content / folder / name)
    monkeypatch.setenv("LOA_DATABASE_URL", f"sqlite+aiosqlite:///{tmp_path / 'loa.db'}")
    monkeypatch.setenv("LOA_CONTENT_DIR", str(content))
    return tmp_path


def test_a_period_without_data_gives_zeros_a_note_and_every_target(loa: Path) -> None:
    out = loa / "q4.json"
    assert main(["report", "--period", "2026-Q4", "--format", "json", "-o", str(out)]) == 0
    report = json.loads(out.read_text(encoding="utf-8"))
    assert report["period"] == {"label": "2026-Q4", "from": "2026-10-01", "to": "2026-12-31"}
    assert report["totals"]["sent_chats"] == report["totals"]["acknowledged"] == 0
    assert report["totals"]["acknowledged_rate"] is None
    assert report["notes"] and report["posts"] == report["by_school"] == []
    kpis = {k["metric"]: (k["status"], k["reason"]) for k in report["kpis"]}
    assert kpis == {
        "briefed": ("not_measurable", "no staff groups bound in the unit"),
        "understood": ("not_measurable", "no answers to the plan's quiz posts in the period"),
        "plans_built": ("not_measurable", "no schools in the unit"),
        "thematic_sessions": ("behind", None),  # none reported with /baocao
        "exemplar_models": ("not_measurable", "no schools in the unit"),
    }, "no target is dropped"


@pytest.mark.parametrize(
    ("args", "code", "says"),
    [
        (["--period", "2026-Q5", "--format", "json"], 1, "loa: period '2026-Q5' is not one of"),
        (["--period", "2026", "--unit", "khong-co", "--format", "json"], 1, "unknown unit"),
        (["--period", "2026", "--plan", "khong_co", "--format", "json"], 1, "unknown plan"),
        (["--period", "2026", "--format", "docx"], 1, "docx needs -o FILE"),
    ],
)
def test_what_cannot_be_reported_is_one_line(
    loa: Path, capsys: pytest.CaptureFixture[str], args: list[str], code: int, says: str
) -> None:
    assert main(["report", *args]) == code
    err = capsys.readouterr().err
    assert says in err and err.count("\n") == 1


def test_bench_report_prints_the_contract(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["bench", "report", "--events", "3000", "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert {"bench", "n", "seconds", "per_second", "peak_rss_mb", "errors", "events"} <= set(result)
    assert result["errors"] == 0 and result["bench"] == "report"
    assert 2500 <= result["events"] <= 3500 and result["engaged"] > 0


def _report_templates(content: Path) -> Path:
    """The ward's own copy of the packaged report templates."""
    folder = content / "templates" / "report"
    shutil.copytree(DEFAULT_CONTENT_DIR / "templates" / "report", folder)
    return folder


def test_a_ward_words_the_report_in_its_own_templates(loa: Path) -> None:
    words = _report_templates(loa / "content") / "_words.j2"
    text = words.read_text(encoding="utf-8").replace('"result": "Kết quả"', '"result": "Số liệu"')
    words.write_text(text, encoding="utf-8")
    out = loa / "q4.xlsx"
    assert main(["report", "--period", "2026-Q4", "--format", "xlsx", "-o", str(out)]) == 0
    assert load_workbook(out)["Tổng hợp"]["B1"].value == "Số liệu"


@pytest.mark.parametrize(
    ("damage", "says"),
    [
        (lambda f: (f / "_docx.j2").unlink(), "_docx.j2: no such report template"),
        (lambda f: (f / "_docx.j2").write_text("{% macro x() %}"), "_docx.j2:1: "),
        (lambda f: (f / "_docx.j2").write_text(""), "_docx.j2, macro unknown_ward: "),
    ],
)
def test_a_broken_report_template_is_one_line_naming_it(
    loa: Path, capsys: pytest.CaptureFixture[str], damage: Callable[[Path], object], says: str
) -> None:
    damage(_report_templates(loa / "content"))
    out = loa / "q4.docx"
    assert main(["report", "--period", "2026-Q4", "--format", "docx", "-o", str(out)]) == 1
    err = capsys.readouterr().err
    assert says in err and err.startswith("loa: ") and err.count("\n") == 1
    assert not out.exists(), "no half-written report"
