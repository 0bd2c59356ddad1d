"""Message templates: strict, escaped, Vietnamese formats, clear errors."""

from __future__ import annotations

import shutil
import time
from datetime import UTC, date, datetime
from datetime import time as clock
from decimal import Decimal
from pathlib import Path

import pytest

from bot.config import DEFAULT_CONTENT_DIR
from bot.services.announcements import Progress
from bot.services.questions import Pending
from bot.services.reach import Figures
from bot.services.trends import Burst, Rise
from bot.storage.models import Announcement, FeedbackItem, Task
from bot.text import fold, fold_phrase
from content.check import check_content
from content.limits import Limits
from content.templates import TemplateError, Templates, vn_date, vn_number
from tests.handlers.fakes import TEMPLATES_DIR

_ITEM = FeedbackItem(
    id=7,
    kind="question",
    text="Con em học lớp 1A, khi nào họp phụ huynh?",
    reported_text="Trường thu 2 triệu",
    answer="Thứ bảy tuần này.",
    created_at=datetime(2026, 11, 20, tzinfo=UTC),
)

# Every chat template with the values its handler passes.
CHAT_TEMPLATES: dict[str, dict[str, object]] = {
    "start": {"name": "Lan"},
    "help": {"roles": ["teacher", "official"]},
    "privacy_notice": {},
    "unknown_text": {},
    "numbered_out_of_range": {"typed": 7, "count": 3},
    "unsupported_message": {},
    "private_only": {"command": "moi"},
    "group_only": {"command": "ganhom"},
    "not_allowed": {},
    "signin_link": {"link": "https://loa.example/admin/vao/abc", "minutes": 10},
    "signin_refused": {"command": "dangnhap", "reason": "forbidden"},
    "name_of": {"kind": "audience", "value": "teachers"},
    "invite_usage": {
        "roles": [("giaovien", "teacher")],
        "units": [("th-a", "Trường A")],
        "example": ("giaovien", "th-a"),
    },
    "invite_bad_input": {"problem": "role", "value": "hieu truong"},
    "invite_created": {
        "code": "K7QM-3XWP-9TDA-HE4C",
        "link": "https://t.me/loa_bot?start=K7QM-3XWP-9TDA-HE4C",
        "role": "teacher",
        "unit_name": "Trường A",
        "expires_at": datetime(2026, 12, 6, tzinfo=UTC),
        "uses": 50,
        "invite_id": 3,
    },
    "invite_revoked": {"outcome": "done", "invite_id": 3},
    "code_result": {
        "outcome": "joined",
        "role": "parent",
        "unit_name": "Lớp 1A",
        "wait_minutes": 0,
    },
    "me": {"kept": None},
    "erase_confirm": {},
    "erase_button": {"choice": "yes"},
    "erase_result": {"outcome": "done"},
    "bind_prompt": {"step": "unit", "unit_name": "Trường A"},
    "bind_whole": {"unit_name": "Trường Tiểu học A"},
    "bind_refused": {"reason": "forbidden"},
    "bind_done": {"unit_name": "Lớp 1A", "audience": "parents", "members": 35},
    "bind_already": {"unit_name": "Lớp 1A", "audience": "parents"},
    "bind_not_allowed": {"title": "Phụ huynh 1A"},
    "units_list": {"lines": [(0, "th-a", "Trường A")], "more": 0, "may_add": False},
    "stats": {
        "quarter": 4,
        "year": 2026,
        "posts": 0,
        "figures": None,
        "rate": {},
        "lowest": [],
        "pending": Pending(open=0, overdue=0),
    },
    "stats_announcement": {"number": 12, "found": False},
    "unit_added": {"outcome": "done", "code": "th-a-3a", "name": "Lớp 3A", "parent_name": "A"},
    "quiz_right": {"name": "Lan", "right": "Bộ Chính trị"},
    "quiz_wrong": {"name": "Lan", "right": "Bộ Chính trị"},
    "quiz_again": {"right": "Bộ Chính trị"},
    "rsvp_thanks": {"name": "Lan", "option": "Con sẽ tham gia", "changed": False},
    "answer_unknown": {},
    "announce_ask": {"step": "too_long", "limit": 3000},
    "task_reminder": {
        "task": Task(
            key="p:1",
            plan="p",
            title="Tổ chức chuyên đề",
            expected_result="02 buổi",
            deadline=datetime(2026, 12, 31, tzinfo=UTC),
        ),
    },
    "task_button": {"status": "done"},
    "task_answered": {"status": "blocked", "label": "Gặp khó khăn", "title": "Chuyên đề"},
    "task_refused": {"reason": "forbidden"},
    "activity_ask": {"step": "count_again", "audience": "parents", "max": 100000},
    "activity_button": {"kind": "kind", "value": "thematic_session"},
    "activity_summary": {
        "report": {
            "kind": "plan",
            "held_on": None,
            "participants": {"teachers": 3},
            "notes": None,
            "theme": None,
        },
        "plan_title": None,
        "audiences": ["teachers", "students"],
        "max": 100000,
    },
    "activity_refused": {"reason": "expired"},
    "model_ask": {"step": "school"},
    "model_button": {"kind": "reject"},
    "model_request": {
        "model": {"title": "Góc sách", "description": "Mỗi lớp"},
        "school": "TH A",
        "author": "",
    },
    "model_decided": {"outcome": "rejected_author", "title": "Góc sách", "by": "", "reason": "x"},
    "model_refused": {"reason": "own"},
    "tasks_list": {"lines": []},
    "flow_cancelled": {"ended": True},
    "announce_draft": {
        "a": Announcement(text="Họp phụ huynh", audiences=["parents"], urgent=True),
        "unit_names": ["Trường A"],
        "groups": 12,
        "number": 1,
    },
    "announce_button": {"kind": "audience", "value": "teachers", "on": True},
    "announce_request": {
        "a": Announcement(text="Họp phụ huynh", audiences=["parents"]),
        "number": 1,
        "author": "Hòa",
        "groups": 3,
        "unit_names": ["Trường A"],
    },
    "announce_decided": {"outcome": "submitted", "number": 1, "asked": 0},
    "announce_refused": {"reason": "own"},
    "announce_progress": {
        "number": 1,
        "p": Progress(total=10, sent=8, failed=1, uncertain=1, expired=0, waiting=0),
        "due_at": None,
        "urgent": False,
        "held": False,
    },
    "announce_post": {
        "a": Announcement(text="Họp phụ huynh", audiences=["parents"]),
        "number": 1,
        "unit_names": ["Trường A"],
        "office": "Phường A",
    },
    "ack_thanks": {"name": "Lan"},
    "ack_again": {"name": "Lan"},
    "ack_unknown": {},
    "unknown_command": {"command": "abc"},
    "quiz_explanation": {"question": "Ai ban hành?", "right": "Bộ Chính trị", "explanation": "x"},
    "rsvp_counts": {"posts": []},
    "rsvp_reminder": {
        "title": "CLB tiếng Anh",
        "option": "Con sẽ tham gia",
        "session_at": datetime(2026, 12, 3, 9, 30, tzinfo=UTC),
    },
    "evidence_refused": {"reason": "size", "kind": "photo", "photo_mb": 10, "document_mb": 20},
    "evidence_saved": {"kind": "photo", "what": "báo cáo hoạt động số 3", "count": 2},
    "question_refused": {"reason": "no_unit", "max": 2000},
    "question_sent": {"unit": "Trường A", "told": 2},
    "question_new": {"item": _ITEM, "asker": "Lan", "where": "Lớp 1A", "unit": "Trường A"},
    "question_button": {"op": "a"},
    "question_ask": {"step": "question_answer", "item": _ITEM},
    "question_closed": {"outcome": "answered", "item": _ITEM},
    "question_answer": {"item": _ITEM, "staff": "Cô Hoa", "in_group": False},
    "question_overdue": {"item": _ITEM, "unit": "Trường A", "late": True},
    "misinfo_refused": {"reason": "empty", "max": 2000},
    "misinfo_ask": {"step": "text"},
    "misinfo_sent": {"told": 1},
    "misinfo_new": {"item": _ITEM, "reporter": "Lan", "where": ""},
    "misinfo_button": {"op": "c"},
    "misinfo_closed": {"outcome": "clarified", "item": _ITEM},
    "misinfo_clarification": {"text": "Nhà trường không thu thêm khoản nào.", "item": _ITEM},
    "error": {},
    "trend_rise": {
        "rise": Rise(
            unit_id=1,
            week_start=datetime(2026, 11, 23, tzinfo=UTC),
            week_end=datetime(2026, 11, 30, tzinfo=UTC),
            volume=12,
            negatives=7,
            share=7 / 12,
            baseline_share=0.1,
            baseline_weekly=10.5,
            baseline_negatives=1.0,
            category="complaint",
            examples=("Suất ăn bán trú ít thịt", "Thu tiền điều hòa vô lý"),
        ),
        "unit_name": "Trường A",
    },
    "trend_burst": {
        "burst": Burst(
            unit_ids=(1, 2),
            first_unit=1,
            first_at=datetime(2026, 11, 30, 1, tzinfo=UTC),
            last_at=datetime(2026, 11, 30, 2, tzinfo=UTC),
            reports=3,
            keywords=("bat", "coc"),
            examples=("Có người lạ đón học sinh ở cổng trường",),
        ),
        "unit_names": ["Trường A", "Trường B"],
    },
    "zalo_oa_quota_held": {
        "title": "Họp phụ huynh",
        "waiting": 12,
        "until": datetime(2026, 12, 1, 17, 0, tzinfo=UTC),
        "quota": 4,
        "expires": None,
    },
}


@pytest.mark.parametrize("name", sorted(CHAT_TEMPLATES))
def test_chat_templates_render_in_vietnamese(name: str) -> None:
    text = Templates(TEMPLATES_DIR).render(name, **CHAT_TEMPLATES[name])
    assert text and text == text.strip()
    assert any(c in text for c in "ăâđêôơưáàảãạ"), "expected Vietnamese with diacritics"
    assert "{{" not in text and "{#" not in text


def test_every_chat_template_is_listed_here() -> None:
    names = {p.stem for p in TEMPLATES_DIR.glob("*.j2") if not p.name.startswith("_")}
    assert names == set(CHAT_TEMPLATES)


def test_empty_name_reads_naturally() -> None:
    t = Templates(TEMPLATES_DIR)
    assert t.render("start", name="").startswith("Xin chào!")
    assert t.render("ack_thanks", name="") == "Cảm ơn bạn đã xác nhận đã hiểu."


def test_a_missing_value_names_the_template() -> None:
    with pytest.raises(TemplateError, match=r"^unknown_command\.j2: 'command' is undefined"):
        Templates(TEMPLATES_DIR).render("unknown_command")


def test_a_broken_template_names_file_and_line(tmp_path: Path) -> None:
    (tmp_path / "broken.j2").write_text("Xin chào\n{% if name %}\n", encoding="utf-8")
    t = Templates(tmp_path)
    with pytest.raises(TemplateError, match=r"^broken\.j2:\d+: "):
        t.render("broken", name="x")
    assert len(t.check()) == 1 and t.check()[0].startswith(str(tmp_path / "broken.j2"))
    with pytest.raises(TemplateError, match=r"^missing\.j2: no such template"):
        t.render("missing")


def test_filters_in_templates(tmp_path: Path) -> None:
    (tmp_path / "f.j2").write_text("{{ at | vn_date }} – {{ n | vn_number }} người", "utf-8")
    t = Templates(tmp_path)
    # 17:30 UTC is 00:30 the next day in Hà Nội
    text = t.render("f", at=datetime(2026, 11, 21, 17, 30), n=1234567)
    assert text == "ngày 22 tháng 11 năm 2026 – 1.234.567 người"


def test_vn_date() -> None:
    assert vn_date(date(2026, 11, 22)) == "ngày 22 tháng 11 năm 2026"
    assert vn_date(datetime(2026, 11, 21, 17, 30, tzinfo=UTC)) == "ngày 22 tháng 11 năm 2026"
    assert vn_date(datetime(2026, 11, 21, 17, 30), "UTC") == "ngày 21 tháng 11 năm 2026"
    assert vn_date(date(2027, 1, 5), nd30=True) == "ngày 05 tháng 01 năm 2027"
    assert vn_date(date(2027, 3, 5), nd30=True) == "ngày 05 tháng 3 năm 2027"


def test_vn_number() -> None:
    assert vn_number(1234567) == "1.234.567"
    assert vn_number(-1200) == "-1.200"
    assert vn_number(92.5) == "92,5"
    assert vn_number(1000.0) == "1.000"
    assert vn_number(Decimal("1234.5"), 2) == "1.234,50"


def test_fold() -> None:
    assert fold("Đã hiểu") == fold("da hieu") == "da hieu"
    assert fold("ĐƯỜNG Ống Nước") == "duong ong nuoc"
    assert fold_phrase("  Trợ   giúp!! ") == "tro giup"


def test_templates_cannot_reach_beyond_their_values(tmp_path: Path) -> None:
    """Officials write templates: the sandbox refuses Python internals, with the file named."""
    (tmp_path / "escape.j2").write_text("{{ ''.__class__.__mro__ }}", encoding="utf-8")
    with pytest.raises(
        TemplateError, match=r"^escape\.j2:1: not allowed in a template: .*__class__"
    ):
        Templates(tmp_path).render("escape")


# --- resource limits: a template officials write cannot hang loa or fill its memory -----------

LIMITED = {
    "nested_range.j2": (
        "Kính gửi\n{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}"
        "{% endfor %}",
        "range() of more than",
    ),
    "nested_loops.j2": (
        "Kính gửi\n{% for i in range(10000) %}{% for j in range(10000) %}{% endfor %}{% endfor %}",
        "loops ran more than 10000 times",
    ),
    "big_string.j2": ("Kính gửi\n{{ 'A' * 100000000 }}", "more than 100000 items"),
    "big_list.j2": ("Kính gửi\n{{ ([1, 2] * 100000000)|length }}", "more than 100000 items"),
    "big_number.j2": ("Kính gửi\n{{ 7 ** 1000000000 }}", "more than 100000 items (or bits)"),
    "big_output.j2": (
        "Kính gửi\n{% for i in range(5000) %}{{ 'chữ ' * 10 }}{% endfor %}",
        "output of more than 100000 characters",
    ),
    "big_macro.j2": (
        "{% macro m() %}\n{% for i in range(9000) %}{{ 'x' * 20000 }}{% endfor %}{% endmacro %}"
        "{{ m()|length }}",
        "output of more than 100000 characters",
    ),
    "doubling.j2": (
        "{% set ns = namespace(s='ab') %}\n{% for i in range(64) %}{% set ns.s = ns.s ~ ns.s %}"
        "{% endfor %}",
        "more than 100000 items",
    ),
    "mutation.j2": (
        "{% set xs = [1] %}\n{% for i in range(64) %}{{ xs.extend(xs) }}{% endfor %}",
        "not allowed in a template",
    ),
    "recursion.j2": (
        "{% macro f(n) %}\n{{ f(n + 1) }}{% endmacro %}{{ f(0) }}",
        "calls nested more than 50 deep",
    ),
    "self_include.j2": ("Kính gửi\n{% include 'self_include.j2' %}", "include each other"),
}


@pytest.mark.parametrize("name", sorted(LIMITED))
def test_a_template_past_a_limit_fails_fast_at_its_line(tmp_path: Path, name: str) -> None:
    text, error = LIMITED[name]
    (tmp_path / name).write_text(text, encoding="utf-8")
    started = time.monotonic()
    with pytest.raises(TemplateError) as failed:
        Templates(tmp_path).render(name)
    assert time.monotonic() - started < 1.0
    assert error in str(failed.value)
    if name != "self_include.j2":  # no single line is at fault
        assert str(failed.value).startswith(f"{name}:2: ")


def test_a_slow_render_is_stopped_at_its_time_limit(tmp_path: Path) -> None:
    slow = (
        "{% for i in range(100) %}{% for j in range(100) %}"
        "{% set w = ('x ' * 5000)|wordwrap(7) %}{% endfor %}{% endfor %}"
    )
    (tmp_path / "slow.j2").write_text("Kính gửi\n" + slow, encoding="utf-8")
    started = time.monotonic()
    with pytest.raises(TemplateError, match=r"^slow\.j2:2: .*took more than 0\.05 s"):
        Templates(tmp_path, limits=Limits(seconds=0.05)).render("slow")
    assert time.monotonic() - started < 0.5


def test_a_template_within_the_limits_renders(tmp_path: Path) -> None:
    text = (
        "{% set ns = namespace(n=0) %}{% for i in range(100) %}{% for j in range(99) %}"
        "{% set ns.n = ns.n + 1 %}{% endfor %}{% endfor %}{{ ns.n }} {{ 'ô' * 3 }} {{ 2 ** 64 }}"
    )
    (tmp_path / "fine.j2").write_text(text, encoding="utf-8")
    assert Templates(tmp_path).render("fine") == "9900 ôôô 18446744073709551616"


def test_content_check_names_the_line_of_a_template_past_a_limit(tmp_path: Path) -> None:
    """`loa content check` and start-up render every campaign post: a hanging template used to
    hang both."""
    content = shutil.copytree(DEFAULT_CONTENT_DIR / "examples", tmp_path / "content")
    post = content / "templates" / "posts" / "nq71_1_la_gi.j2"  # a real ward's campaign post
    post.write_text(
        post.read_text(encoding="utf-8")
        + "\n{% for i in range(9999) %}{% for j in range(9999) %}{% endfor %}{% endfor %}\n",
        encoding="utf-8",
    )
    line = len(post.read_text(encoding="utf-8").splitlines())
    started = time.monotonic()
    problems = check_content(content)
    assert time.monotonic() - started < 10
    assert any(f"{post}:{line}: " in p and "loops ran more than" in p for p in problems), problems


def test_a_draft_to_parents_says_when_quiet_hours_hold_it() -> None:
    quiet = Templates(TEMPLATES_DIR, quiet_hours=(clock(21), clock(6, 30)))
    not_urgent = Announcement(text="Họp phụ huynh", audiences=["parents"])
    values = {**CHAT_TEMPLATES["announce_draft"], "a": not_urgent}
    assert "tin sẽ đến lúc 06:30" in quiet.render("announce_draft", **values)
    urgent = {**values, "a": Announcement(text="Bão", audiences=["parents"], urgent=True)}
    assert "06:30" not in quiet.render("announce_draft", **urgent)
    assert "06:30" not in Templates(TEMPLATES_DIR).render("announce_draft", **values)


SENT = Figures(sent_chats=10, audience=60, ack_audience=60, acknowledged=1, failed=1)
FILLED = {
    "stats": {
        **CHAT_TEMPLATES["stats"], "posts": 3, "figures": SENT, "rate": SENT.as_dict(),
        "briefings": [], "uncounted": True, "pending": Pending(open=2, overdue=1),
    },
    "stats_announcement": {
        "number": 3, "found": True, "sent": True, "figures": SENT, "rate": SENT.as_dict()
    },
    "announce_request": {
        **CHAT_TEMPLATES["announce_request"],
        "a": Announcement(text="Họp", audiences=["parents"], urgent=True),
    },
}  # fmt: skip


@pytest.mark.parametrize("name", list(FILLED))
def test_each_figure_and_field_stands_on_its_own_line(name: str) -> None:
    """A line ending in a block tag loses its newline (trim_blocks): the next «•» or «Sẽ đến»
    would run on in the same line."""
    text = Templates(TEMPLATES_DIR).render(name, **FILLED[name])
    assert text.count("• ") >= 1 or "Sẽ đến" in text
    for line in text.splitlines():
        assert line.count("• ") <= 1 and line.count(":</b>") <= 1, line
