"""The dashboard's Questions and Feedback pages: a parent's question answered on the web
reaches them in chat through the outbox; only the viewer's school's questions are seen or
answered; every form needs the session's CSRF token; what people typed is shown as text."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import update

from bot.delivery.sender import ChannelSender
from bot.storage.models import FeedbackItem, table_of, utcnow
from bot.web.admin.snapshots import Snapshots
from tests.delivery.conftest import send_all
from tests.questions.conftest import loa_posts
from tests.web.admin.conftest import Site, staff


async def parent_asks(site: Site, text: str, unit: str = "th-a-1a") -> int:
    w = site.world
    parent = await w.person("Phụ huynh Lan")
    await w.grant(parent, "parent", unit)
    [sent] = await w.say(parent, text)
    assert "câu hỏi, góp ý của bạn" in sent, sent
    return parent


async def test_a_question_answered_on_the_web_reaches_the_asker(any_site: Site) -> None:
    site, w = any_site, any_site.world
    official = await staff(w, "Anh Hùng", "official", "phuong-a")
    parent = await parent_asks(site, "Lịch họp phụ huynh khi nào ạ?")
    await site.sign_in(official)
    html = await (await site.client.get("/admin/cauhoi")).text()
    assert "Lịch họp phụ huynh khi nào ạ?" in html and 'id="open-count">1<' in html

    short = await site.client.post("/admin/cauhoi/1", data={
        "csrf": await site.csrf(), "cach": "traloi", "noidung": "x"})  # fmt: skip
    assert "cần từ 2 đến" in await short.text()
    sent = await site.client.post("/admin/cauhoi/1", data={
        "csrf": await site.csrf(), "cach": "traloi", "noidung": "Thứ bảy, 8 giờ ạ."})  # fmt: skip
    page = await sent.text()
    assert "Đã gửi câu trả lời" in page and 'id="closed-count">1<' in page
    await send_all(ChannelSender(w.db, w.adapter, rate_per_s=0), w.db)
    [answer] = await w.news(parent)
    assert answer.startswith("Trả lời câu hỏi của bạn (từ Anh Hùng)")
    assert "Bạn hỏi: Lịch họp phụ huynh khi nào ạ?" in answer
    assert answer.endswith("Thứ bảy, 8 giờ ạ.")
    again = await site.client.post("/admin/cauhoi/1", data={
        "csrf": await site.csrf(), "cach": "traloi", "noidung": "Lần hai"})  # fmt: skip
    assert "đã được trả lời hoặc xử lý rồi" in await again.text()


async def test_a_group_question_is_answered_in_the_group_and_is_no_post(site: Site) -> None:
    w = site.world
    official = await staff(w, "Anh Hùng", "official", "phuong-a")
    parent = await w.sandbox.create_user("Phụ huynh Lan")
    group = await w.bound_group("Phụ huynh 1A", "th-a-1a", "parents", [parent])
    post = await loa_posts(w, group)
    await w.sandbox.write(group, parent, "Họp ở phòng nào ạ?", post)
    await w.pump()
    await site.sign_in(official)
    await site.client.post("/admin/cauhoi/1", data={
        "csrf": await site.csrf(), "cach": "traloi", "noidung": "Phòng 203 ạ"})  # fmt: skip
    await w.news(group)
    await send_all(ChannelSender(w.db, w.adapter, rate_per_s=0), w.db)
    [answer] = await w.news(group)
    assert "Bạn hỏi: Họp ở phòng nào ạ?" in answer and answer.endswith("Phòng 203 ạ")
    site.dash.figures = Snapshots()  # no cached figures: computed afresh
    overview = await (await site.client.get("/admin/")).text()
    assert 'id="posts">0<' in overview and 'id="audience">0<' in overview, "an answer is no post"


async def test_marked_handled_with_a_reason_sends_nothing(site: Site) -> None:
    w = site.world
    admin = await staff(w, "Cô Mai", "school_admin", "th-a")
    parent = await parent_asks(site, "Góp ý về căng tin")
    await w.news(admin)
    await site.sign_in(admin)
    done = await site.client.post("/admin/cauhoi/1", data={
        "csrf": await site.csrf(), "cach": "xuly", "noidung": "Đã gọi điện trao đổi"})  # fmt: skip
    html = await done.text()
    assert "Đã đánh dấu câu hỏi là đã xử lý" in html and "Đã gọi điện trao đổi" in html
    await send_all(ChannelSender(w.db, w.adapter, rate_per_s=0), w.db)
    assert await w.news(parent) == []


async def test_another_schools_question_is_neither_seen_nor_answered(site: Site) -> None:
    w = site.world
    other = await staff(w, "Thầy Nam", "school_admin", "th-b")
    await parent_asks(site, "Câu hỏi của trường A")
    await site.sign_in(other)
    html = await (await site.client.get("/admin/cauhoi")).text()
    assert "Câu hỏi của trường A" not in html
    forced = await site.client.post("/admin/cauhoi/1", data={
        "csrf": await site.csrf(), "cach": "traloi", "noidung": "Không phải"})  # fmt: skip
    assert forced.status == 404
    async with w.db.session() as session:
        item = await session.get(FeedbackItem, 1)
    assert item is not None and item.status == "open"


async def test_the_answer_form_needs_the_sessions_csrf_token(site: Site) -> None:
    w = site.world
    official = await staff(w, "Anh Hùng", "official", "phuong-a")
    await parent_asks(site, "Câu hỏi")
    await site.sign_in(official)
    for data in ({"cach": "traloi", "noidung": "Trả lời"},
                 {"csrf": "forged", "cach": "traloi", "noidung": "Trả lời"}):  # fmt: skip
        refused = await site.client.post("/admin/cauhoi/1", data=data)
        assert refused.status == 403
    async with w.db.session() as session:
        item = await session.get(FeedbackItem, 1)
    assert item is not None and item.status == "open"


async def test_html_in_a_question_is_shown_as_text(site: Site) -> None:
    official = await staff(site.world, "Anh Hùng", "official", "phuong-a")
    await parent_asks(site, "<script>alert(1)</script> & <b>học phí</b>")
    await site.sign_in(official)
    for path in ("/admin/cauhoi", "/admin/phanhoi"):
        html = await (await site.client.get(path)).text()
        assert "<script>" not in html and "<b>học phí" not in html, path
    html = await (await site.client.get("/admin/cauhoi")).text()
    assert "&lt;script&gt;alert(1)&lt;/script&gt; &amp; &lt;b&gt;học phí&lt;/b&gt;" in html


async def test_overdue_questions_come_first_and_reach_the_overview(site: Site) -> None:
    w = site.world
    official = await staff(w, "Anh Hùng", "official", "phuong-a")
    await parent_asks(site, "Câu hỏi cũ")
    items = table_of(FeedbackItem)
    async with w.db.session() as session:
        await session.exec(
            update(items).where(items.c.id == 1).values(created_at=utcnow() - timedelta(hours=50))
        )
        await session.commit()
    await site.sign_in(official)
    overview = await (await site.client.get("/admin/")).text()
    assert 'id="questions-overdue">1<' in overview and 'id="misinformation-open">0<' in overview
    html = await (await site.client.get("/admin/cauhoi")).text()
    assert 'id="overdue-count">1<' in html
    assert html.index("Câu hỏi cũ") < html.index('id="dang-mo"')


async def test_feedback_counts_unlabelled_rows_honestly(site: Site) -> None:
    w = site.world
    official = await staff(w, "Anh Hùng", "official", "phuong-a")
    parent = await parent_asks(site, "Câu hỏi chưa phân loại")
    await w.say(parent, "Câu hỏi thứ hai về học phí")
    items = table_of(FeedbackItem)
    async with w.db.session() as session:
        # Labelled when stored; one as a row stored before the classifier (or whose labels
        # the catch-up has not reached yet), the other as a complaint.
        await session.exec(
            update(items)
            .where(items.c.id == 1)
            .values(category=None, sentiment=None, classified_at=None)
        )
        await session.exec(
            update(items).where(items.c.id == 2).values(category="complaint", sentiment="negative")
        )
        await session.commit()
    await site.sign_in(official)
    html = await (await site.client.get("/admin/phanhoi")).text()
    assert 'id="feedback-total">2<' in html
    assert '<td>chưa phân loại</td><td class="n">1</td>' in html
    assert '<td>Tiêu cực</td><td class="n">1</td>' in html and "<svg" in html
