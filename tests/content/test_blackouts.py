"""Blackout dates: recurring posts skip them; a one-off post dated on one is an error at its
file and line; a wrong blackouts.yaml names its own lines."""

from __future__ import annotations

import shutil
from datetime import date
from pathlib import Path

import pytest

from content.blackouts import due_times, load_blackouts
from content.campaign import load_campaigns
from content.check import check_content

REPO = Path(__file__).resolve().parents[2]

ON_TET = """\
id: tet
plan: viet_yen_nq71
title: Tin dịp Tết
posts:
- id: chuc_tet
  kind: announcement
  audiences: [parents]
  schedule: {at: 2027-01-20T19:30:00+07:00}
  template: posts/nq71_4_phu_huynh_tham_gia.j2
- id: mung_hai
  kind: announcement
  audiences: [parents]
  schedule:
    at: 2027-02-07T19:30:00+07:00
  template: posts/nq71_4_phu_huynh_tham_gia.j2
"""


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    copy = tmp_path / "content"
    shutil.copytree(REPO / "content" / "examples", copy)
    return copy


def test_the_shipped_blackouts_cover_tet_2027_and_the_club_skips_it() -> None:
    blackouts = load_blackouts(REPO / "content" / "examples")
    hit = blackouts.on(date(2027, 2, 6))  # mùng 1 Tết Đinh Mùi
    assert hit is not None and "Tết" in hit[1].reason
    assert blackouts.on(date(2027, 2, 4)) is None and blackouts.on(date(2027, 2, 14)) is None
    loaded, _ = load_campaigns(REPO / "content" / "examples")
    [club] = [p for c in loaded for p in c.campaign.posts if p.id == "clb_tieng_anh_hang_tuan"]
    # The post skips only the Thursday before Tết; the blackout takes care of the one within.
    schedule = club.schedule.model_copy(update={"skip": [date(2027, 2, 4)]})
    club = club.model_copy(update={"schedule": schedule})
    days = {t.date() for t in due_times(club, blackouts)}
    assert date(2027, 1, 28) in days and date(2027, 2, 18) in days
    assert date(2027, 2, 4) not in days  # the post's own skip still holds
    assert date(2027, 2, 11) not in days  # a Thursday within Tết
    assert len(days) == len(club.schedule.occurrences()) - 1


def test_a_one_off_post_on_a_blackout_day_is_reported_at_its_line(folder: Path) -> None:
    (folder / "campaigns" / "tet.yaml").write_text(ON_TET, encoding="utf-8")
    problems = check_content(folder)
    assert problems == [
        f"{folder / 'campaigns' / 'tet.yaml'}:14: post mung_hai is due on 2027-02-07, a blackout "
        f"day (Nghỉ Tết Nguyên Đán Đinh Mùi 2027, {folder / 'blackouts.yaml'}:8): move it to "
        "another day"
    ]


def test_a_wrong_blackouts_file_names_its_lines(folder: Path) -> None:
    (folder / "blackouts.yaml").write_text(
        "blackouts:\n"
        "- from: 2027-02-05\n"
        "  until: 2027-02-01\n"
        "  reason: Tết\n"
        "- from: 2027-06-01\n"
        "  until: 2027-06-03\n"
        "  note: thi vào lớp 10\n",
        encoding="utf-8",
    )
    path = folder / "blackouts.yaml"
    problems = check_content(folder)
    assert problems[0].startswith(f"{path}:2: blackouts.0: until (2027-02-01) is before from")
    assert f"{path}:5: blackouts.1.reason: Field required" in problems
    assert f"{path}:7: blackouts.1.note: Extra inputs are not permitted" in problems
    assert len(problems) == 3


def test_no_blackouts_file_means_no_blackouts(folder: Path) -> None:
    (folder / "blackouts.yaml").unlink()
    assert check_content(folder) == []
    assert load_blackouts(folder).on(date(2027, 2, 6)) is None
