"""The dashboard's pages over the evidence scenario (a plan, a campaign tapped and answered, a
chat without the bot, activity reports, an approved model): the same figures as `loa report`,
within the viewer's units only, every value people typed shown as text."""

from __future__ import annotations

import asyncio
import json
import re
import time
from datetime import timedelta
from pathlib import Path

from sqlmodel import select

from bot.delivery.sender import ChannelSender
from bot.domain import Button
from bot.reports.period import quarter_of
from bot.reports.report import build_report
from bot.services.broadcasts import Broadcast
from bot.storage.models import (
    Announcement,
    Chat,
    ExemplaryModel,
    Occurrence,
    Person,
    Task,
    TaskAnswer,
    utcnow,
)
from content.units import class_code
from tests.chatworld import World
from tests.delivery.conftest import send_all
from tests.reports.test_evidence_end_to_end import _content, evidence_plan, play  # noqa: F401
from tests.reports.test_reach_end_to_end import _send
from tests.sqlite_lock import write_lock_held
from tests.web.admin.conftest import Site, staff


async def user_named(site: Site, name: str) -> int:
    async with site.world.db.session() as session:
        person = (await session.exec(select(Person).where(Person.display_name == name))).one()
    return int(person.platform_user_id)


def cell(html: str, element_id: str) -> str:
    found = re.search(rf'id="{element_id}">([^<]*)<', html)
    assert found, element_id
    return found.group(1)


async def test_the_overview_shows_the_scenarios_figures(any_site: Site, tmp_path: Path) -> None:
    any_site.dash.content = _content(tmp_path)
    await play(any_site.world)
    html = await any_site.sign_in(await user_named(any_site, "Hùng"))

    figures = {k: cell(html, k) for k in ("posts", "audience", "acknowledged", "understood")}
    assert figures == {"posts": "2", "audience": "16", "acknowledged": "5", "understood": "3"}
    assert "55,6% của 9" in html and "60% của 5" in html
    kpis = re.findall(r'<td class="n"><a href="[^"]*">([^<]*)</a></td>', html)
    assert kpis == ["60%", "60%", "2", "50%", "0"], "briefed, understood, sessions, plans, models"
    assert "Phụ huynh B" in html and "Thêm lại bot vào nhóm" in html, "the chat without the bot"
    assert "<svg" in html and "Tiếp cận theo tuần" in html


async def test_reports_download_the_files_loa_report_writes(site: Site, tmp_path: Path) -> None:
    site.dash.content = _content(tmp_path)
    await play(site.world)
    await site.sign_in(await user_named(site, "Hùng"))
    period = quarter_of((utcnow()).astimezone(site.dash.tz).date())
    form = await (await site.client.get("/admin/baocao")).text()
    assert 'value="phuong-a"' in form and 'value="th-a"' in form

    query = {"ky": period.label, "donvi": "phuong-a"}
    docx = await site.client.get("/admin/baocao/tai", params={**query, "dinhdang": "docx"})
    assert docx.status == 200 and (await docx.read())[:2] == b"PK"
    assert "bao-cao-phuong-a" in docx.headers["Content-Disposition"]
    xlsx = await site.client.get("/admin/baocao/tai", params={**query, "dinhdang": "xlsx"})
    assert xlsx.status == 200 and (await xlsx.read())[:2] == b"PK"
    got = json.loads(
        await (
            await site.client.get("/admin/baocao/tai", params={**query, "dinhdang": "json"})
        ).text()
    )
    expected = await build_report(site.world.db, period, site.dash.content, unit="phuong-a")
    assert got["totals"] == expected["totals"] and got["totals"]["acknowledged"] == 5
    bad = await site.client.get("/admin/baocao/tai", params={**query, "ky": "2026-Q5",
                                                             "dinhdang": "docx"})  # fmt: skip
    assert bad.status == 400 and "Kỳ báo cáo không hợp lệ" in await bad.text()


async def test_a_school_admin_sees_their_school_only(site: Site, tmp_path: Path) -> None:
    site.dash.content = _content(tmp_path)
    await play(site.world)
    head = await staff(site.world, "Hiệu trưởng A", "school_admin", "th-a")
    html = await site.sign_in(head)
    assert cell(html, "acknowledged") == "4", "th-a's taps only"
    schools = await (await site.client.get("/admin/truong")).text()
    assert "Trường Tiểu học A" in schools and "Trường Tiểu học B" not in schools
    assert (await site.client.get("/admin/truong/th-a")).status == 200
    other = await site.client.get("/admin/truong/th-b")
    assert other.status == 404 and "ngoài đơn vị bạn phụ trách" in await other.text()
    async with site.world.db.session() as session:
        chats = (await session.exec(select(Chat))).all()
    theirs = next(c for c in chats if c.title == "Cán bộ B")
    ours = next(c for c in chats if c.title == "Cán bộ A")
    assert (await site.client.get(f"/admin/nhom/{theirs.id}")).status == 404
    group = await (await site.client.get(f"/admin/nhom/{ours.id}")).text()
    assert "Lan" in group and "Minh" in group, "who acknowledged, behind the figure"
    report = await site.client.get(
        "/admin/baocao/tai", params={"ky": "2026", "donvi": "phuong-a", "dinhdang": "json"}
    )
    assert report.status == 404, "not the ward's report"
    assert "Soạn thông báo mới" not in await (await site.client.get("/admin/bai")).text()
    async with site.world.db.session() as session:
        brief = (
            await session.exec(select(Occurrence).where(Occurrence.key == "c:ev_2026:brief:1"))
        ).one()
    post = await (await site.client.get(f"/admin/bai/{brief.id}")).text()
    assert "Cán bộ A" in post and "1A" in post and "Cán bộ B" not in post, "their groups only"


async def test_groups_that_never_acknowledge_come_first(site: Site) -> None:
    w = site.world
    official = await staff(w, "Hùng", "official", "phuong-a")
    p1, p2 = await w.sandbox.create_user("PH1"), await w.sandbox.create_user("PH2")
    tapped = await w.bound_group("1A", class_code("th-a", "Lớp 1A"), "parents", [p1])
    silent = await w.bound_group("1B", class_code("th-b", "Lớp 1B"), "parents", [p2])
    brief = await _send(w, Broadcast(key="b", title="Tóm tắt", text="Nghị quyết",
                                     buttons=(Button("Đã hiểu", "ack:{occurrence}"),)),
                        [tapped, silent])  # fmt: skip
    await w.press(tapped, p1, f"ack:{brief}")
    await site.sign_in(official)
    html = await (await site.client.get("/admin/truong")).text()
    groups = html[html.index('id="groups"') :]
    assert groups.index("Lớp 1B — chưa ai xác nhận") < groups.index("Lớp 1A")
    by_reach = await (await site.client.get("/admin/truong?sap=hieu&chieu=giam")).text()
    rows = by_reach[by_reach.index('id="schools"') : by_reach.index('id="groups"')]
    assert rows.index("Trường Tiểu học A") < rows.index("Trường Tiểu học B")


async def test_an_announcement_composed_and_approved_on_the_web_goes_out(site: Site) -> None:
    w = site.world
    author = await staff(w, "Hùng", "official", "phuong-a")
    second = await staff(w, "Phó chủ tịch", "official", "phuong-a")
    parent = await w.sandbox.create_user("PH1")
    group = await w.bound_group("1A", class_code("th-a", "Lớp 1A"), "parents", [parent])
    await site.sign_in(author)
    page = await (await site.client.get("/admin/bai")).text()
    ward = re.search(r'name="donvi" value="(\d+)"> Phường A', page)
    assert ward
    typed = "Họp phụ huynh <b>thứ Bảy</b> & nhận sách"
    sent = await site.client.post("/admin/bai/thongbao", data={
        "csrf": await site.csrf(), "noidung": typed, "doituong": "parents",
        "donvi": ward.group(1)})  # fmt: skip
    assert sent.status == 200 and "Đã gửi thông báo để duyệt" in await sent.text()
    async with w.db.session() as session:
        a = (await session.exec(select(Announcement))).one()
    assert a.status == "pending" and a.author_id == await w.person_id(author)
    asked = await w.news(second)
    assert any(f"số {a.id}" in text for text in asked), "the second official is asked in chat"
    own = await site.client.post(f"/admin/bai/thongbao/{a.id}",
                                 data={"csrf": await site.csrf(), "quyet": "duyet"})  # fmt: skip
    assert "không thể tự duyệt" in await own.text()

    await site.sign_in(second)
    listed = await (await site.client.get("/admin/bai")).text()
    assert "Họp phụ huynh &lt;b&gt;thứ Bảy&lt;/b&gt; &amp; nhận sách" in listed, "escaped once"
    decision = {"csrf": await site.csrf(), "quyet": "duyet"}
    approved = await site.client.post(f"/admin/bai/thongbao/{a.id}", data=decision)
    assert "Đã duyệt" in await approved.text()
    await send_all(ChannelSender(w.db, w.adapter, rate_per_s=0), w.db)
    [post] = await w.news(group)
    assert typed in post, "what the official typed, as text (Telegram shows the entities)"
    told = await w.news(author)
    assert f"Thông báo số {a.id} đã được Phó chủ tịch duyệt." in told
    again = await site.client.post(f"/admin/bai/thongbao/{a.id}",
                                   data={"csrf": await site.csrf(), "quyet": "tuchoi"})  # fmt: skip
    assert "đã được quyết định" in await again.text()


async def test_text_people_typed_is_shown_escaped(site: Site) -> None:
    w = site.world
    official = await staff(w, "Hùng", "official", "phuong-a")
    evil = "<script>alert(1)</script>"
    p1 = await w.sandbox.create_user(f"PH {evil}")
    group = await w.bound_group(f"Nhóm {evil}", class_code("th-a", "Lớp 1A"), "parents", [p1])
    brief = await _send(w, Broadcast(key="b", title=f"Bài {evil}", text="x",
                                     buttons=(Button("Đã hiểu", "ack:{occurrence}"),)),
                        [group])  # fmt: skip
    await w.press(group, p1, f"ack:{brief}")
    await site.sign_in(official)
    async with w.db.session() as session:
        chat = (await session.exec(select(Chat).where(Chat.platform_chat_id == str(group)))).one()
    for path in ("/admin/", "/admin/truong", "/admin/truong/th-a", f"/admin/nhom/{chat.id}",
                 "/admin/bai"):  # fmt: skip
        html = await (await site.client.get(path)).text()
        assert "<script>" not in html, path
    assert "&lt;script&gt;" in await (await site.client.get(f"/admin/nhom/{chat.id}")).text()


async def propose(w: World, teacher: int, title: str) -> None:
    await w.say(teacher, "/mohinh")
    await w.say(teacher, title)
    await w.say(teacher, "Mỗi lớp một góc sách")


async def test_models_are_decided_on_the_web_with_a_reason(site: Site, tmp_path: Path) -> None:
    site.dash.content = _content(tmp_path)
    await play(site.world)
    w = site.world
    tu = await user_named(site, "Tú")
    await propose(w, tu, "Câu lạc bộ <em>đọc</em>")
    await w.news(tu)
    await site.sign_in(await user_named(site, "Hùng"))
    html = await (await site.client.get("/admin/hoatdong")).text()
    assert html.count("Sinh hoạt chuyên đề") == 3 and "Xây dựng kế hoạch" in html
    assert html.count("Kế hoạch tuyên truyền thử nghiệm") == 3 and "<td>khác</td>" in html
    assert "Hội trường" in html and "20 giáo viên, 300 học sinh" in html, "the evidence"
    assert "Câu lạc bộ &lt;em&gt;đọc&lt;/em&gt;" in html and "Chờ duyệt" in html
    async with w.db.session() as session:
        model = (
            await session.exec(select(ExemplaryModel).where(ExemplaryModel.status == "pending"))
        ).one()
    path = f"/admin/hoatdong/mohinh/{model.id}"
    no_reason = await site.client.post(path, data={"csrf": await site.csrf(), "quyet": "tuchoi"})
    assert "Hãy ghi lý do" in await no_reason.text()
    rejected = await site.client.post(path, data={"csrf": await site.csrf(), "quyet": "tuchoi",
                                                  "lydo": "Chưa có minh chứng"})  # fmt: skip
    assert "Đã không duyệt mô hình" in await rejected.text()
    async with w.db.session() as session:
        decided = await session.get(ExemplaryModel, model.id)
    assert decided is not None and decided.status == "rejected"
    assert decided.reason == "Chưa có minh chứng"
    told = await w.news(tu)
    assert any("Chưa có minh chứng" in t for t in told), "the author is told why, in chat"


async def test_duties_show_owner_deadline_status_and_result(site: Site) -> None:
    w = site.world
    official = await staff(w, "Hùng", "official", "phuong-a")
    lan = await staff(w, "Lan", "teacher", "th-a")
    th_a = await w.unit("th-a")
    async with w.db.session() as session:
        late = Task(
            key="p:1",
            plan="p",
            title="Tổ chức hội nghị quán triệt",
            owner_unit_id=th_a,
            deadline=utcnow() - timedelta(days=2),
        )
        done = Task(key="p:2", plan="p", title="Xây dựng kế hoạch của trường",
                    owner_unit_id=th_a, deadline=utcnow() - timedelta(days=1))  # fmt: skip
        session.add_all([late, done])
        await session.commit()
        session.add(TaskAnswer(task_id=done.id or 0, person_id=await w.person_id(lan),
                               status="done", details="Đã ban hành kế hoạch số 12"))  # fmt: skip
        await session.commit()
    html = await site.sign_in(official)
    assert "Nhiệm vụ «06 rõ» quá hạn chưa hoàn thành: <b>1</b>" in html
    duties = await (await site.client.get("/admin/nhiemvu")).text()
    assert "Trường Tiểu học A" in duties and "Đã ban hành kế hoạch số 12" in duties
    assert duties.count("quá hạn") == 1 and "Đã hoàn thành" in duties


async def test_every_page_opens_while_a_writer_holds_sqlites_lock(
    site: Site, tmp_path: Path
) -> None:
    """Pages only read: on SQLite they take no write lock, so a long write elsewhere (a
    broadcast being enqueued, another process) does not hold up the dashboard, nor does the
    dashboard hold up the sender."""
    site.dash.content = _content(tmp_path)
    await play(site.world)
    await site.sign_in(await user_named(site, "Hùng"))
    took = {}
    async with write_lock_held(site.world.db.url.split("///", 1)[1]):
        for page in ("", "truong", "bai", "hoatdong", "nhiemvu", "cauhoi", "phanhoi", "baocao"):
            path = f"/admin/{page}"
            started = time.monotonic()
            async with asyncio.timeout(5):
                response = await site.client.get(path)
            assert response.status == 200, path
            took[path] = time.monotonic() - started

    assert max(took.values()) < 1.0, took
