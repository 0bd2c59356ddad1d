"""One canonical message, converted at the adapter: what Zalo users see of a post's buttons."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.domain import Button, OutboundMessage, Platform
from bot.platforms.capabilities import CAPABILITIES
from bot.platforms.render import for_platform
from bot.platforms.telegram import TelegramAdapter
from content.campaign import load_campaigns, render
from content.templates import Templates

EXAMPLES = Path(__file__).resolve().parents[2] / "content" / "examples"
TEMPLATES = Templates(EXAMPLES / "templates")
POSTS = {p.id: p for item in load_campaigns(EXAMPLES)[0] for p in item.campaign.posts}
ZALO = [Platform.ZALO_BOT]  # Zalo OA has buttons (oa.query.show): see below


def _on(platform: Platform, post_id: str) -> OutboundMessage:
    canonical = render(TEMPLATES, POSTS[post_id], "parents")
    message = OutboundMessage("42", canonical.text, canonical.buttons)
    return for_platform(message, CAPABILITIES[platform], TEMPLATES)


@pytest.mark.parametrize("platform", ZALO)
@pytest.mark.parametrize(
    ("post_id", "replies"),
    [
        ("nq71_1_la_gi", ["Trả lời 1 nếu đã hiểu."]),
        (
            "nq71_1_cau_hoi",
            [
                "1. Bộ Chính trị, ngày 22/8/2025",
                "2. Chính phủ, ngày 15/9/2025",
                "3. UBND tỉnh, ngày 19/12/2025",
                "4. Bộ Giáo dục và Đào tạo, ngày 11/02/2026",
                "",
                "Trả lời bằng số của đáp án (từ 1 đến 4).",
            ],
        ),
        (
            "clb_tieng_anh_hang_tuan",
            ["Trả lời 1 nếu con sẽ tham gia.", "Trả lời 2 nếu chưa tham gia được."],
        ),
    ],
)
def test_a_post_on_zalo_is_plain_text_ending_in_numbered_replies(
    platform: Platform, post_id: str, replies: list[str]
) -> None:
    shown = _on(platform, post_id)
    assert shown.buttons == () and shown.chat_id == "42"
    assert "<" not in shown.text and "&amp;" not in shown.text
    assert shown.text.splitlines()[-len(replies) :] == replies
    assert "\n\n\n" not in shown.text
    assert len(shown.text) <= 2000


def test_other_buttons_become_a_numbered_choice_on_zalo() -> None:
    message = OutboundMessage(
        "7",
        "<b>Thông báo</b> chờ duyệt",
        (Button("Duyệt & gửi", "ann:12:approve"), Button("Trả lại", "ann:12:return")),
    )
    shown = for_platform(message, CAPABILITIES[Platform.ZALO_BOT], TEMPLATES)
    assert shown.text == (
        "Thông báo chờ duyệt\n\n1. Duyệt & gửi\n2. Trả lại\n\nTrả lời bằng một số từ 1 đến 2."
    )
    assert shown.buttons == ()


def test_mixed_answers_are_a_numbered_choice_not_an_acknowledgement() -> None:
    message = OutboundMessage("7", "Chọn", (Button("Đã hiểu", "ack:1"), Button("Hỏi", "ask:1")))
    shown = for_platform(message, CAPABILITIES[Platform.ZALO_BOT], TEMPLATES)
    assert shown.text.endswith("1. Đã hiểu\n2. Hỏi\n\nTrả lời bằng một số từ 1 đến 2.")


def test_zalo_oa_keeps_the_buttons_and_shows_plain_text() -> None:
    message = OutboundMessage("7", "<b>Họp</b> phụ huynh", (Button("Đã hiểu", "ack:1"),))
    shown = for_platform(message, CAPABILITIES[Platform.ZALO_OA], TEMPLATES)
    assert (shown.text, shown.buttons) == ("Họp phụ huynh", message.buttons)


def test_telegram_gets_the_canonical_message_as_it_is() -> None:
    canonical = render(TEMPLATES, POSTS["nq71_1_cau_hoi"], "parents")
    message = OutboundMessage("42", canonical.text, canonical.buttons)
    assert for_platform(message, CAPABILITIES[Platform.TELEGRAM], TEMPLATES) == message
    assert TelegramAdapter.capabilities is CAPABILITIES[Platform.TELEGRAM]


def test_each_platform_counts_its_own_way() -> None:
    telegram, zalo = CAPABILITIES[Platform.TELEGRAM], CAPABILITIES[Platform.ZALO_BOT]
    text = "<b>Họp</b> 🙂"  # tags are not counted; the emoji is 2 UTF-16 units, 1 character
    assert telegram.text_length(text) == 6
    assert zalo.text_length(for_platform(OutboundMessage("1", text), zalo, TEMPLATES).text) == 5
    assert CAPABILITIES[Platform.ZALO_OA].member_count and not zalo.member_count
