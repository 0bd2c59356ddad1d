"""The shipped campaigns: they pass `loa content check`, and every post fits every platform."""

from __future__ import annotations

import re
import shutil
from datetime import date
from pathlib import Path

import pytest

from bot.cli import main
from bot.domain import OutboundMessage, Platform
from bot.platforms.base import Markup
from bot.platforms.capabilities import CAPABILITIES
from bot.platforms.render import for_platform
from content.campaign import Kind, Post, check_campaigns, load_campaigns, render
from content.campaign.render import callback_bytes
from content.campaign.telegram_html import check_telegram_html
from content.templates import Templates, html_to_plain

REPO = Path(__file__).resolve().parents[2]
CONTENT = REPO / "content" / "examples"
LOADED, LOAD_PROBLEMS = load_campaigns(CONTENT)
POSTS = [post for item in LOADED for post in item.campaign.posts]
TEMPLATES = Templates(CONTENT / "templates")
WORDS_A_PARENT_READS_IN_A_MINUTE = 130


def test_shipped_content_passes_check(capsys: pytest.CaptureFixture[str]) -> None:
    assert LOAD_PROBLEMS == []
    assert check_campaigns(CONTENT) == []
    assert main(["content", "check", str(CONTENT)]) == 0
    assert "content is valid" in capsys.readouterr().out


def test_the_seeds_have_their_campaigns() -> None:
    plans = {item.campaign.plan for item in LOADED}
    assert {"viet_yen_nq71", "bac_kan_ngoai_ngu_2026_2030"} <= plans
    kinds = [post.kind for post in POSTS]
    assert kinds.count(Kind.resolution_summary) >= 3
    assert kinds.count(Kind.quiz) == kinds.count(Kind.resolution_summary)
    assert Kind.reminder in kinds and Kind.club_notice in kinds


@pytest.mark.parametrize("post", POSTS, ids=lambda p: p.id)
def test_every_post_renders_for_every_audience_within_limits(post: Post) -> None:
    for audience in post.audiences:
        canonical = render(TEMPLATES, post, audience.value)
        check_telegram_html(canonical.text)
        assert "{{" not in canonical.text and "{%" not in canonical.text
        for platform, capabilities in CAPABILITIES.items():
            message = OutboundMessage("1", canonical.text, canonical.buttons)
            shown = for_platform(message, capabilities, TEMPLATES)
            limit = 4096 if platform == Platform.TELEGRAM else 2000
            assert 0 < capabilities.text_length(shown.text) <= limit, platform
            if capabilities.markup == Markup.PLAIN:
                assert "<" not in shown.text
                assert bool(shown.buttons) == (
                    capabilities.inline_buttons and bool(message.buttons)
                )
        body = html_to_plain(canonical.text)
        assert len(body.split()) <= WORDS_A_PARENT_READS_IN_A_MINUTE, (post.id, audience)
    assert all(callback_bytes(b) <= 64 for b in render(TEMPLATES, post, "x").buttons)


def test_each_summary_is_followed_by_a_quiz_with_a_valid_answer() -> None:
    nq71 = [
        p for item in LOADED if item.campaign.plan == "viet_yen_nq71" for p in item.campaign.posts
    ]
    summaries = [p for p in nq71 if p.kind == Kind.resolution_summary]
    quizzes = [p for p in nq71 if p.kind == Kind.quiz]
    assert 3 <= len(summaries) <= 4 and len(quizzes) == len(summaries)
    for summary, quiz in zip(summaries, quizzes, strict=True):
        assert quiz.schedule.occurrences()[0] > summary.schedule.occurrences()[0]
        assert quiz.quiz is not None and 3 <= len(quiz.quiz.options) <= 4
        assert 0 <= quiz.quiz.answer < len(quiz.quiz.options)
        assert summary.ack is not None and summary.ack.label == "Đã hiểu"


def test_english_club_is_every_thursday_of_the_school_year_but_tet() -> None:
    (club,) = [p for p in POSTS if p.kind == Kind.club_notice]
    due = club.schedule.occurrences()
    assert all(d.weekday() == 3 and d.strftime("%H:%M%z") == "16:30+0700" for d in due)
    assert due[0].date() == date(2026, 9, 10) and due[-1].date() == date(2027, 5, 27)
    assert date(2027, 2, 4) not in {d.date() for d in due}
    assert club.rsvp is not None and club.rsvp.options == ["Con sẽ tham gia", "Chưa tham gia được"]


def test_the_nq71_facts_match_the_seed() -> None:
    seed = (REPO / "tests/content/seeds/viet-yen-nq71.md").read_text(encoding="utf-8")
    (first,) = [p for p in POSTS if p.id == "nq71_1_la_gi"]
    text = render(TEMPLATES, first, "parents").text
    assert "22/8/2025" in seed and "22/8/2025" in text and "Bộ Chính trị" in text
    for phrase in ("quốc sách hàng đầu, quyết định tương lai dân tộc", "15/KH-UBND"):
        assert phrase in seed and phrase in text


def test_tb144_campaign_needs_its_plan(tmp_path: Path) -> None:
    folder = shutil.copytree(CONTENT, tmp_path / "content")
    assert check_campaigns(folder) == []
    (folder / "plans" / "hong-bang-tb144.yaml").unlink()
    assert any("no plan 'hong_bang_tb144'" in p for p in check_campaigns(folder))


def test_tb144_reaches_parents_on_zalo_with_the_notice_facts() -> None:
    folder = CONTENT
    loaded, _ = load_campaigns(folder)
    (post,) = [p for item in loaded for p in item.campaign.posts if p.id == "tb144_phoi_hop"]
    templates = Templates(folder / "templates")
    canonical = render(templates, post, "parents")
    message = OutboundMessage("1", canonical.text, canonical.buttons)
    text = for_platform(message, CAPABILITIES[Platform.ZALO_BOT], templates).text
    assert "144-TB/TU" in text and "29/11/2025" in text and "354/KH-UBND" in text
    assert re.search(r"Trả lời 1 nếu đã hiểu", text)
