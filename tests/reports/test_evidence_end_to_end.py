"""The evidence end to end: a plan's targets, a campaign sent through the sandbox and tapped,
activity reports (/baocao) and a model (/mohinh) approved, parents' questions (one answered, one
left open) and a misinformation report — then the report's JSON, DOCX and XLSX give exactly the
figures the scenario implies."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from pathlib import Path
from typing import Any

import pytest
from docx import Document
from openpyxl import load_workbook
from sqlmodel import select

from bot.config import DEFAULT_CONTENT_DIR
from bot.domain import Button
from bot.reports.docx import letterhead, write_docx
from bot.reports.period import Period, quarter_of
from bot.reports.report import Content, build_report
from bot.reports.wording import report_wording
from bot.reports.xlsx import write_xlsx
from bot.services.broadcasts import Broadcast
from bot.storage.models import FeedbackItem, utcnow
from content.campaign.check import load_plans
from content.units import class_code
from handlers import activities as activity_handlers
from tests.activities.conftest import staff
from tests.chatworld import BOT_ID, World
from tests.reports.test_docx import _rows
from tests.reports.test_reach_end_to_end import _send

PLAN_YAML = """\
id: evidence
title: Kế hoạch tuyên truyền thử nghiệm
issuing_unit: UBND phường A
period: {start: 2026, end: 2030}
themes: [Nội dung cốt lõi của Nghị quyết]
targets:
- {metric: briefed, description: 100% cán bộ được quán triệt, comparator: '=', value: 100,
   unit: percent, audience: staff}
- {metric: understood, description: Ít nhất 90% hiểu rõ, comparator: '>=', value: 90,
   unit: percent}
- {metric: thematic_sessions, description: Tối thiểu 02 chuyên đề, comparator: '>=', value: 2,
   unit: count, per: year}
- {metric: plans_built, description: 100% trường xây dựng kế hoạch, comparator: '=', value: 100,
   unit: percent, per: year}
- {metric: exemplar_models, description: Mỗi trường ít nhất 01 mô hình, comparator: '>=',
   value: 1, unit: count, per: year}
"""


def _content(folder: Path) -> Content:
    (folder / "plans").mkdir(exist_ok=True)
    (folder / "plans" / "evidence.yaml").write_text(PLAN_YAML, encoding="utf-8")
    return Content(load_plans(folder), {"ev_2026": "evidence"})


@pytest.fixture(autouse=True)
def evidence_plan(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """/baocao offers the scenario's plan (loa's default content folder has none)."""
    plans = _content(tmp_path).plans
    monkeypatch.setattr(activity_handlers, "_plans_in", lambda _folder: plans)


async def _activity(w: World, teacher: int, kind: str, day: str, plan: bool = True) -> None:
    """/baocao of `kind` held on `day`, for the plan and its theme (or another plan), every count
    typed, no notes, sent."""
    await w.say(teacher, "/baocao")
    [number, *_] = [d.split(":")[1] for _, d in await w.last_buttons(teacher)]
    await w.press(teacher, teacher, f"act:{number}:k:{kind}")
    await w.press(teacher, teacher, f"act:{number}:p:{'evidence' if plan else '-'}")
    if plan:
        await w.press(teacher, teacher, f"act:{number}:t:0")
    for typed in (day, "20", "300", "0", "Hội trường"):
        await w.say(teacher, typed)
    await w.press(teacher, teacher, f"act:{number}:send")


async def play(w: World) -> None:
    lan, minh, tu = [await staff(w, n, "teacher", "th-a") for n in ("Lan", "Minh", "Tú")]
    nam = await staff(w, "Nam", "teacher", "th-b")
    official = await staff(w, "Hùng", "official", "phuong-a")
    hoa = await w.sandbox.create_user("Hoa")
    p1, p2, p3, p4, p5 = [await w.sandbox.create_user(f"PH{i}") for i in range(1, 6)]
    staff_a = await w.bound_group("Cán bộ A", "th-a", "staff", [lan, minh, tu])
    parents_a = await w.bound_group("1A", class_code("th-a", "Lớp 1A"), "parents", [p1, p2, p3, p4])
    staff_b = await w.bound_group("Cán bộ B", "th-b", "staff", [nam, hoa])
    gone = await w.bound_group("Phụ huynh B", "th-b", "parents", [p5])
    await w.sandbox.remove_member(gone, BOT_ID)

    brief = await _send(
        w,
        Broadcast(key="c:ev_2026:brief:1", title="Tóm tắt", text="Nghị quyết",
                  buttons=(Button("Đã hiểu", "ack:{occurrence}"),),
                  source="campaign:ev_2026/brief", kind="resolution_summary"),
        [staff_a, parents_a, staff_b, gone],
    )  # fmt: skip
    taps = ((staff_a, lan), (staff_a, lan), (staff_a, minh), (parents_a, p1), (parents_a, p2),
            (staff_b, nam))  # fmt: skip
    for chat, user in taps:
        await w.press(chat, user, f"ack:{brief}")
    options = ["Đúng", "Sai"]
    quiz = await _send(
        w,
        Broadcast(key="c:ev_2026:quiz:1", title="Câu hỏi", text="Ai ban hành?",
                  buttons=tuple(Button(o, f"quiz:{{occurrence}}:{i}") for i, o in
                                enumerate(options)),
                  source="campaign:ev_2026/quiz", kind="quiz",
                  meta={"answer": 0, "options": options}),
        [parents_a, staff_a, gone],
    )  # fmt: skip
    answers = ((parents_a, p1, 0), (parents_a, p2, 1), (parents_a, p3, 0), (staff_a, lan, 0),
               (staff_a, minh, 1))  # fmt: skip
    for chat, user, choice in answers:
        await w.press(chat, user, f"quiz:{quiz}:{choice}")

    today = utcnow() + timedelta(hours=7)
    day = f"{today.day}/{today.month}/{today.year}"
    await _activity(w, lan, "thematic_session", day)
    await _activity(w, minh, "plan", day)
    await _activity(w, nam, "thematic_session", day)
    await _activity(w, nam, "thematic_session", day, plan=False)  # not this plan's: not counted
    await w.say(tu, "/mohinh")
    await w.say(tu, "Góc đọc sách")
    await w.say(tu, "Mỗi lớp một góc sách")
    [(_, approve), _] = await w.last_buttons(official)
    await w.press(official, official, approve)

    # What parents said, in private to loa and in their group.
    for parent in (p1, p2):
        await w.sandbox.create_chat("", type="private", user_id=parent)
        await w.sandbox.add_member(parent, BOT_ID)
    await w.say(p1, ANSWERED)
    [(_, answer), _] = await w.last_buttons(lan)
    await w.press(lan, lan, answer)
    await w.say(lan, "Thứ bảy tuần này, 8 giờ sáng ạ.")
    await w.say(p2, LEFT_OPEN)
    rumour = await w.sandbox.write(parents_a, p4, RUMOUR)
    await w.sandbox.write(parents_a, p3, "báo tin sai, trường chưa thông báo gì", rumour)
    await w.pump()


ANSWERED = "Cho em hỏi lịch họp phụ huynh học kỳ này là ngày nào ạ?"
LEFT_OPEN = (
    "Nhà trường có tổ chức bán trú cho lớp 1 không ạ? Cô Mai gọi lại giúp em số 0912 345 678"
)
SHOWN = "Nhà trường có tổ chức bán trú cho lớp 1 không ạ? Cô … gọi lại giúp em số [số điện thoại]"
RUMOUR = "Nghe nói từ tuần sau học sinh phải đóng thêm 2 triệu tiền học"
FEEDBACK = {
    "status": "recorded",
    "total": 3,
    "unlabelled": 0,
    "themes": [
        {"category": "question", "count": 2, "examples": [SHOWN, ANSWERED],
         "sentiment": {"positive": 0, "neutral": 2, "negative": 0}},
        {"category": "misinformation", "count": 1, "examples": [RUMOUR],
         "sentiment": {"positive": 0, "neutral": 0, "negative": 1}},
    ],
}  # fmt: skip


async def _asked(w: World) -> datetime:
    """When the question left open was asked."""
    async with w.db.session() as session:
        query = select(FeedbackItem.created_at).where(FeedbackItem.status == "open")
        return (await session.exec(query.where(FeedbackItem.kind == "question"))).one()


TOTALS = {
    "posts": 2, "sent_chats": 5, "audience": 3 + 4 + 2 + 4 + 3, "ack_audience": 9,
    "acknowledged": 5, "answered": 5, "understood": 3, "engaged": 10, "failed": 1,
    "uncertain": 0, "expired": 0, "waiting": 0, "received": 0, "seen": 0,
    "acknowledged_rate": 55.6,
    "understood_rate": 60.0, "engaged_rate": 62.5,
}  # fmt: skip


def kpis(period: Period) -> dict[str, tuple[float, str, dict[str, Any]]]:
    """What each target achieved; yearly targets count from 1 January to the period's end."""
    year = {"from": f"{period.last.year}-01-01", "to": period.last.isoformat()}
    a, b = {"acknowledged": 2, "registered": 3}, {"acknowledged": 1, "registered": 2}
    schools = {"by_school": {"th-a": 1, "th-b": 0}, "missing": ["th-b"]}
    return {
        "briefed": (60.0, "behind", {"audience": "staff", "acknowledged": 3, "registered": 5,
                                     "by_unit": {"th-a": a, "th-b": b}}),
        "understood": (60.0, "behind", {"parents": {"answered": 3, "understood": 2},
                                        "staff": {"answered": 2, "understood": 1}}),
        "thematic_sessions": (2.0, "met", {"sessions": 2, "by_unit": {"th-a": 1, "th-b": 1},
                                           **year}),
        "plans_built": (50.0, "behind", {"schools": 2, "with": 1, **schools, **year}),
        "exemplar_models": (0.0, "behind", {"schools": 2, "with": 1, **schools, **year}),
    }  # fmt: skip


BY_SCHOOL = {  # sent_chats, audience, acknowledged, answered, understood, failed
    "th-a": (4, 14, 4, 5, 3, 0),
    "th-b": (1, 2, 1, 0, 0, 1),
}


async def _report(w: World, tmp_path: Path) -> tuple[Period, dict[str, Any], Content]:
    content = _content(tmp_path)
    period = quarter_of((utcnow() + timedelta(hours=7)).date())
    return period, await build_report(w.db, period, content, now=period.end), content


async def test_the_report_gives_the_scenarios_figures(any_world: World, tmp_path: Path) -> None:
    await play(any_world)
    period, report, _ = await _report(any_world, tmp_path)

    assert report["totals"] == TOTALS, "a second tap is one person; the chat without the bot failed"
    achieved = {k["metric"]: (k["achieved"], k["status"], k["figures"]) for k in report["kpis"]}
    assert achieved == kpis(period), "the session of another plan does not count"
    estimates = {k["metric"] for k in report["kpis"] if k["estimate"]}
    assert estimates == {"briefed"}, "staff registered are the staff groups' members"
    keys = ("sent_chats", "audience", "acknowledged", "answered", "understood", "failed")
    schools = {row["code"]: tuple(row[k] for k in keys) for row in report["by_school"]}
    assert schools == BY_SCHOOL

    today = (utcnow() + timedelta(hours=7)).date().isoformat()
    counts = {"teachers": 20, "students": 300, "parents": 0}
    theme = "Nội dung cốt lõi của Nghị quyết"
    assert [
        (a["kind"], a["unit"]["code"], a["held_on"], a["plan"], a["theme"], a["participants"])
        for a in report["activities"]
    ] == [
        ("thematic_session", "th-a", today, "evidence", theme, counts),
        ("plan", "th-a", today, "evidence", theme, counts),
        ("thematic_session", "th-b", today, "evidence", theme, counts),
        ("thematic_session", "th-b", today, None, None, counts),
    ], "every activity by name, the other plan's too (the report is not limited to a plan)"
    [model] = report["models"]
    assert (model["title"], model["school"]["code"], model["approved_on"]) == (
        "Góc đọc sách", "th-a", today)  # fmt: skip
    assert report["feedback"] == FEEDBACK, "names and phone numbers are not in the examples"
    asked = await _asked(any_world)
    age, overdue = (period.end - asked).days, period.end - asked >= timedelta(hours=96)
    assert report["open_questions"] == {
        "status": "recorded", "open": 1, "overdue": int(overdue),
        "questions": [{"id": 2, "asked_on": today, "asked_at": asked.isoformat(), "age_days": age,
                       "overdue": overdue, "unit": "Trường Tiểu học A", "audience": None,
                       "text": SHOWN}],
    }, "the answered question is not listed; the report's age is at its end"  # fmt: skip


def _number(text: str) -> float | None:
    """ "1.234" → 1234, "66,7%" → 66.7, "chưa có dữ liệu" → None."""
    if text == "chưa có dữ liệu":
        return None
    return float(text.rstrip("%").replace(".", "").replace(",", "."))


async def test_the_docx_and_xlsx_carry_the_same_numbers(any_world: World, tmp_path: Path) -> None:
    await play(any_world)
    period, report, content = await _report(any_world, tmp_path)
    docx_path, xlsx_path = tmp_path / "bao-cao.docx", tmp_path / "bao-cao.xlsx"
    head = await letterhead(any_world.db, None, None)
    words = report_wording(DEFAULT_CONTENT_DIR)
    write_docx(report, docx_path, head, [content.plans["evidence"].title], utcnow().date(), words)
    write_xlsx(report, xlsx_path, words)

    doc = Document(str(docx_path))
    table = next(t for t in doc.tables if t.rows[0].cells[0].text == "Chỉ số")
    totals = [_number(row.cells[1].text) for row in table.rows[1:]]
    assert totals == [2, 5, 16, 5, 55.6, 5, 3, 60.0, 10, 62.5, 1, 0], "posts, then each figure"
    table = next(t for t in doc.tables if t.rows[0].cells[0].text == "Chỉ tiêu")
    assert [_number(row.cells[2].text) for row in table.rows[1:]] == [60.0, 60.0, 2, 50.0, 0]

    book = load_workbook(xlsx_path)
    cells = [row[1].value for row in book["Tổng hợp"].iter_rows(min_row=2)]
    assert cells[:15] == [2, 5, 16, 9, 5, 0.556, 5, 3, 0.6, 10, 0.625, 1, 0, 0, 0]
    kpis = [row[3] for row in book["Chỉ tiêu"].iter_rows(min_row=2, values_only=True)]
    assert kpis == [0.6, 0.6, 2, 0.5, 0]
    notes = [row[5] for row in book["Chỉ tiêu"].iter_rows(min_row=2, values_only=True)]
    assert "ước tính" in str(notes[0]) and not any(notes[1:]), "staff registered is an estimate"

    today = (utcnow() + timedelta(hours=7)).date()
    cell_day = datetime.combine(today, time())  # a date cell reads back as its midnight
    rows = list(book["Hoạt động"].iter_rows(min_row=2, values_only=True))
    assert [(r[0], r[1], r[2], r[3], *r[5:]) for r in rows] == [
        (cell_day, "Trường Tiểu học A", "Sinh hoạt chuyên đề", "evidence", 20, 300, 0),
        (cell_day, "Trường Tiểu học A", "Xây dựng kế hoạch", "evidence", 20, 300, 0),
        (cell_day, "Trường Tiểu học B", "Sinh hoạt chuyên đề", "evidence", 20, 300, 0),
        (cell_day, "Trường Tiểu học B", "Sinh hoạt chuyên đề", None, 20, 300, 0),
    ], "every activity a row, its day a date and its people numbers"
    [model] = book["Mô hình"].iter_rows(min_row=2, values_only=True)
    assert model == ("Góc đọc sách", "Trường Tiểu học A", cell_day)

    activities = _rows(doc, "Ngày")
    day = today.strftime("%d/%m/%Y")
    assert activities[0] == [day, "Trường Tiểu học A", "Sinh hoạt chuyên đề",
                             "Nội dung cốt lõi của Nghị quyết",
                             "cán bộ, giáo viên: 20; học sinh: 300"]  # fmt: skip
    assert len(activities) == 4 and activities[3][3] == "—"
    text = "\n".join(p.text for p in doc.paragraphs)
    part_4 = text[text.index("4. Những mô hình") : text.index("5. Những khó khăn")]
    assert f"Mô hình “Góc đọc sách” — Trường Tiểu học A (duyệt ngày {day})" in part_4
    assert "ước tính" in text, "the staff briefed KPI says its base is an estimate"
    part_3 = text[text.index("3. Sự chuyển biến") : text.index("4. Những mô hình")]
    assert (
        "Ý kiến phản hồi (câu hỏi, góp ý, báo tin sai): 3 ý kiến, phân loại tự động theo 2 chủ đề."
        in part_3
    )
    assert (
        f"Câu hỏi: 2 ý kiến (0 tích cực, 2 trung tính, 0 tiêu cực), ví dụ: “{SHOWN}”; “{ANSWERED}”."
    ) in part_3
    assert (
        f"Báo tin sai, tin đồn: 1 ý kiến (0 tích cực, 0 trung tính, 1 tiêu cực), ví dụ: “{RUMOUR}”."
    ) in part_3
    part_5 = text[text.index("5. Những khó khăn") : text.index("6. Đề xuất")]
    asked = await _asked(any_world)
    age, overdue = (period.end - asked).days, period.end - asked >= timedelta(hours=96)
    assert (
        f"Câu hỏi chưa được trả lời: 1 câu hỏi, trong đó {int(overdue)} câu quá hạn (quá 96 giờ)."
    ) in part_5
    late = " (quá hạn)" if overdue else ""
    assert f"{day}, Trường Tiểu học A, {age} ngày{late}: “{SHOWN}”" in part_5
    assert "0912" not in text and "Mai" not in text

    feedback = list(book["Ý kiến phản hồi"].iter_rows(min_row=2, values_only=True))
    assert feedback == [
        ("Câu hỏi", 2, 0, 2, 0, f"{SHOWN}\n{ANSWERED}"),
        ("Báo tin sai, tin đồn", 1, 0, 0, 1, RUMOUR),
    ], "counts are numbers"
    [question] = book["Câu hỏi chưa trả lời"].iter_rows(min_row=2, values_only=True)
    assert question == (cell_day, "Trường Tiểu học A", None, age, "Có" if overdue else "Không",
                        SHOWN)  # fmt: skip
