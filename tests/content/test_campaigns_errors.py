"""Broken campaigns: each problem is a "file:line: message" naming the right file and line."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from bot.cli import main
from content.campaign import check_campaigns

REPO = Path(__file__).resolve().parents[2]
EXAMPLES = str(REPO / "content" / "examples")

BROKEN = """\
id: broken
plan: viet_yen_nq71
title: Hỏng
posts:
- id: syntax
  kind: announcement
  audiences: [parents]
  schedule: {at: 2026-09-07T19:30:00+07:00}
  template: posts/t_syntax.j2
- id: unknown_variable
  kind: announcement
  audiences: [parents]
  schedule: {at: 2026-09-07T19:30:00+07:00}
  template: posts/t_unknown.j2
- id: too_long
  kind: announcement
  audiences: [parents]
  schedule: {at: 2026-09-07T19:30:00+07:00}
  template: posts/t_long.j2
- id: bad_html
  kind: announcement
  audiences: [parents]
  schedule: {at: 2026-09-07T19:30:00+07:00}
  template: posts/t_html.j2
- id: unbalanced
  kind: announcement
  audiences: [parents]
  schedule: {at: 2026-09-07T19:30:00+07:00}
  template: posts/t_unbalanced.j2
"""

INVALID = """\
id: invalid
plan: no_such_plan
title: Sai
posts:
- id: bad_recurrence
  kind: club_notice
  audiences: [parents]
  schedule:
    every: {weekday: thursday, time: "16:30", from: 2027-05-27, until: 2026-09-10}
  template: posts/clb_tieng_anh.j2
- id: bad_quiz
  kind: quiz
  audiences: [parents]
  schedule: {at: 2026-09-08T19:30:00+07:00}
  template: posts/cau_hoi_nhanh.j2
  quiz:
    question: Câu hỏi?
    options: [A, B, C]
    answer: 3
- id: bad_time
  kind: club_notice
  audiences: [parents]
  schedule:
    every: {weekday: thursday, time: 16:30, from: 2026-09-10, until: 2027-05-27}
  template: posts/clb_tieng_anh.j2
"""

TEMPLATES = {
    "t_syntax.j2": "<b>Tiêu đề</b>\n{% if audience %}\nchưa đóng khối\n",
    "t_unknown.j2": "<b>Tiêu đề</b>\n\nXin chào {{ nobody }}\n",
    "t_long.j2": "<b>Dài</b>\n{{ 'chữ ' * 600 }}\n",
    "t_html.j2": "<b>Tiêu đề</b>\n\n<div>khối</div>\n",
    "t_unbalanced.j2": "<b>Tiêu đề\n\n<i>nghiêng</b></i>\n",
}


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    content = shutil.copytree(REPO / "content" / "examples", tmp_path / "content")
    (content / "campaigns" / "broken.yaml").write_text(BROKEN, encoding="utf-8")
    (content / "campaigns" / "invalid.yaml").write_text(INVALID, encoding="utf-8")
    for name, text in TEMPLATES.items():
        (content / "templates" / "posts" / name).write_text(text, encoding="utf-8")
    return content


def _line(text: str, needle: str) -> int:
    return next(i for i, line in enumerate(text.splitlines(), 1) if needle in line)


def _problem(problems: list[str], at: str, *words: str) -> str:
    found = [p for p in problems if p.startswith(at + ":") and all(w in p for w in words)]
    assert found, f"nothing at {at} with {words} in:\n" + "\n".join(problems)
    return found[0]


def test_render_problems_name_the_post_and_template(folder: Path) -> None:
    problems = check_campaigns(folder)
    broken, posts = folder / "campaigns" / "broken.yaml", folder / "templates" / "posts"
    post = {name: f"{broken}:{_line(BROKEN, f'- id: {name}')}" for name in ("syntax", "too_long")}
    _problem(problems, post["syntax"], f"{posts / 't_syntax.j2'}:", "syntax")
    unknown = f"{broken}:{_line(BROKEN, '- id: unknown_variable')}"
    _problem(problems, unknown, f"{posts / 't_unknown.j2'}:3", "'nobody' is undefined")
    _problem(problems, post["too_long"], "zalo_bot", "more than its 2000")
    assert not any(p.startswith(post["too_long"]) and "telegram" in p for p in problems)
    _problem(problems, f"{posts / 't_html.j2'}:3", "<div> is not a tag Telegram allows")
    _problem(problems, f"{posts / 't_unbalanced.j2'}:3", "</b> found where </i> was expected")


def test_schema_problems_point_at_lines(folder: Path) -> None:
    problems = check_campaigns(folder)
    invalid = folder / "campaigns" / "invalid.yaml"
    _problem(
        problems,
        f"{invalid}:{_line(INVALID, 'from: 2027-05-27')}",
        "posts.0.schedule.every",
        "until (2026-09-10) must be after from (2027-05-27)",
    )
    _problem(
        problems, f"{invalid}:{_line(INVALID, 'quiz:')}", "posts.1.quiz", "answer 3 is out of range"
    )
    _problem(problems, f"{invalid}:{_line(INVALID, 'time: 16:30')}", "time", "in quotes")


def test_unknown_plan_and_foreign_audience(folder: Path) -> None:
    text = BROKEN.replace("plan: viet_yen_nq71", "plan: bac_kan_ngoai_ngu_2026_2030")
    text = text.replace("id: broken", "id: foreign").replace("- id: ", "- id: f_")
    text = text.replace("audiences: [parents]", "audiences: [staff]", 1)
    (folder / "campaigns" / "foreign.yaml").write_text(text, encoding="utf-8")
    (folder / "campaigns" / "invalid.yaml").write_text(
        INVALID.split("- id: bad_recurrence")[0]
        + "- id: lone\n"
        + BROKEN.split("- id: syntax\n")[1],
        encoding="utf-8",
    )
    problems = check_campaigns(folder)
    foreign, invalid = folder / "campaigns" / "foreign.yaml", folder / "campaigns" / "invalid.yaml"
    _problem(problems, f"{foreign}:7", "'staff' is not an audience of plan bac_kan_ngoai_ngu")
    _problem(problems, f"{invalid}:2", "no plan 'no_such_plan'")


def test_content_check_cli_exits_1_and_prints_every_problem(folder: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "bot.cli", "content", "check", str(folder)],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 1, done.stderr
    out = done.stdout
    assert f"{folder / 'templates' / 'posts' / 't_syntax.j2'}:" in out  # Templates.check
    assert f"{folder / 'campaigns' / 'invalid.yaml'}:" in out
    assert "'nobody' is undefined" in out and "more than its 2000" in out


def test_preview_of_a_quiz_on_zalo_bot_numbers_the_options(
    capsys: pytest.CaptureFixture[str],
) -> None:
    args = ["content", "preview", "nq71_1_cau_hoi", "--audience", "phu_huynh"]
    assert main([*args, "--platform", "zalo_bot", "--content", EXAMPLES]) == 0
    out = capsys.readouterr().out
    assert "1. Bộ Chính trị, ngày 22/8/2025" in out and "4. Bộ Giáo dục" in out
    assert "Trả lời bằng số" in out and "<b>" not in out and "[" not in out
    assert main([*args, "--platform", "telegram", "--content", EXAMPLES]) == 0
    assert "[ Bộ Chính trị, ngày 22/8/2025 ]" in capsys.readouterr().out


def test_preview_of_an_ack_on_zalo_bot_and_unknown_posts(
    capsys: pytest.CaptureFixture[str],
) -> None:
    content = ["--content", EXAMPLES]
    ack = [
        "content",
        "preview",
        "nq71_1_la_gi",
        "--audience",
        "giao_vien",
        "--platform",
        "zalo_bot",
    ]
    assert main([*ack, *content]) == 0
    assert "Trả lời 1 nếu đã hiểu." in capsys.readouterr().out
    assert main(["content", "preview", "nope", "--audience", "parents", *content]) == 1
    assert "no post 'nope'" in capsys.readouterr().err
    assert main(["content", "preview", "nq71_4_cau_hoi", "--audience", "can_bo", *content]) == 1
    assert "is not for staff" in capsys.readouterr().err


LIMITS = """\
id: limits
plan: viet_yen_nq71
title: Giới hạn
posts:
- id: fits_until_answered
  kind: quiz
  audiences: [parents]
  schedule: {at: 2026-09-08T19:30:00+07:00}
  template: posts/t_near.j2
  quiz:
    question: Có hay không?
    options: [Có, Không]
    answer: 0
- id: over_telegram
  kind: announcement
  audiences: [parents]
  schedule: {at: 2026-09-08T19:30:00+07:00}
  template: posts/t_huge.j2
"""


def test_content_check_measures_each_platform_as_its_adapter_sends(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = shutil.copytree(REPO / "content" / "examples", tmp_path / "content")
    (folder / "campaigns" / "limits.yaml").write_text(LIMITS, encoding="utf-8")
    posts = folder / "templates" / "posts"
    (posts / "t_near.j2").write_text("<b>Gần</b>\n{{ 'a' * 1980 }}\n", encoding="utf-8")
    (posts / "t_huge.j2").write_text("<b>Dài</b>\n{{ 'chữ ' * 1100 }}\n", encoding="utf-8")
    assert main(["content", "check", str(folder)]) == 1
    problems = capsys.readouterr().out.splitlines()
    at = folder / "campaigns" / "limits.yaml"
    near, huge = f"{at}:{_line(LIMITS, '- id: fits')}", f"{at}:{_line(LIMITS, '- id: over')}"
    # 1984 characters of text fit Zalo; Zalo Bot's numbered replies do not (Zalo OA has buttons)
    _problem(problems, near, "characters on zalo_bot, more than its 2000")
    assert not any(p.startswith(near) and ("telegram" in p or "zalo_oa" in p) for p in problems)
    _problem(problems, huge, "4403 characters on telegram, more than its 4096")
    _problem(problems, huge, "on zalo_bot, more than its 2000")
    assert len(problems) == 4, problems
