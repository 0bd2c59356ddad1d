"""The dashboard in Debian's chromium, as an official uses it: sign in through the link the bot
sent in the sandbox, read the overview (the scenario's figures), have an announcement approved
on the web by a second official and see it arrive in the sandbox's group, download the
quarterly DOCX — at desktop width and at 400 px. With LOA_SHOTS_DIR set (`make
dashboard-shots`), every page is also saved there as a PNG at both widths, for a person to look at.
Skipped without /usr/bin/chromium, except in CI."""

from __future__ import annotations

import os
import re
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from docx import Document

from bot.delivery.sender import ChannelSender
from content.units import class_code
from tests.delivery.conftest import send_all
from tests.reports.test_evidence_end_to_end import _content, evidence_plan, play  # noqa: F401
from tests.sandbox.test_ui_browser import ARGS, CHROMIUM, WAIT_MS, WIDTHS
from tests.web.admin.conftest import LINK, Site, staff
from tests.web.admin.test_pages import user_named

if not CHROMIUM.exists():
    reason = f"{CHROMIUM} is missing (apt-get install chromium)"
    if os.environ.get("CI", "").lower() == "true":
        raise RuntimeError(reason)
    pytest.skip(reason, allow_module_level=True)

from playwright.async_api import Browser, Page, async_playwright, expect

pytestmark = pytest.mark.timeout(180)
SHOTS = os.environ.get("LOA_SHOTS_DIR")
PAGES = {
    "tong-quan": "/admin/",
    "truong": "/admin/truong",
    "truong-th-a": "/admin/truong/th-a",
    "bai": "/admin/bai",
    "cau-hoi": "/admin/cauhoi",
    "phan-hoi": "/admin/phanhoi",
    "hoat-dong": "/admin/hoatdong",
    "nhiem-vu": "/admin/nhiemvu",
    "bao-cao": "/admin/baocao",
}


@pytest.fixture
async def browser() -> AsyncIterator[Browser]:
    async with async_playwright() as p:
        chromium = await p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        try:
            yield chromium
        finally:
            await chromium.close()


async def sign_in(site: Site, browser: Browser, user: int, width: str) -> Page:
    """A new browser for `user`: /dangnhap in the sandbox, the link from the bot's answer."""
    await site.world.say(user, "/dangnhap")
    messages = await site.world.bot_messages(user)
    link = LINK.search(messages[-1]["text"])
    assert link, messages[-1]["text"]
    w, h = WIDTHS[width]
    context = await browser.new_context(
        viewport={"width": w, "height": h}, locale="vi-VN", accept_downloads=True
    )
    page = await context.new_page()
    await page.goto(link.group(1))
    await page.get_by_role("button", name="Đăng nhập").click()
    await expect(page.get_by_role("heading", name=re.compile("Tổng quan"))).to_be_visible()
    return page


async def fits(page: Page, width: str) -> None:
    """Nothing wider than the window: wide tables scroll inside their own box."""
    overflow = await page.evaluate("document.documentElement.scrollWidth")
    wide = await page.evaluate(
        "[...document.querySelectorAll('body *')].filter(e => e.getBoundingClientRect().right"
        " > window.innerWidth).slice(0, 5).map(e => e.tagName + '.' + e.className + ' '"
        " + e.textContent.slice(0, 40))"
    )
    assert overflow <= WIDTHS[width][0], f"{page.url} is {overflow}px wide: {wide}"
    assert overflow <= WIDTHS[width][0], f"{page.url} is {overflow}px wide"


@pytest.mark.parametrize("width", list(WIDTHS))
async def test_an_official_signs_in_approves_and_downloads(
    site: Site, browser: Browser, width: str, tmp_path: Path
) -> None:
    site.dash.content = _content(tmp_path)
    await play(site.world)
    w = site.world
    second = await staff(w, "Phó chủ tịch", "official", "phuong-a")
    parent = await w.sandbox.create_user("PH mới")
    group = await w.bound_group("Phụ huynh 2A", class_code("th-a", "Lớp 2A"), "parents", [parent])

    page = await sign_in(site, browser, await user_named(site, "Hùng"), width)
    for figure, value in (("posts", "2"), ("audience", "16"), ("acknowledged", "5"),
                          ("understood", "3")):  # fmt: skip
        await expect(page.locator(f"#{figure}")).to_have_text(value)
    await expect(page.locator("table.kpis td.n a")).to_have_text(["60%", "60%", "2", "50%", "0"])
    await fits(page, width)
    chart = await page.locator("svg.chart").bounding_box()
    assert chart is not None and chart["width"] <= WIDTHS[width][0]

    # The first official writes an announcement on the web ...
    await page.get_by_role("link", name="Bài đăng & thông báo").click()
    await page.get_by_label("Nội dung").fill("Họp phụ huynh lớp 2A lúc 8 giờ thứ Bảy")
    await page.get_by_label("Phụ huynh").check()
    await page.get_by_label("Phường A").check()
    await page.get_by_role("button", name="Gửi để duyệt").click()
    await expect(page.locator(".ok")).to_contain_text("Đã gửi thông báo để duyệt")

    # ... the second approves it on the web, and it goes out to the group in the sandbox.
    other = await sign_in(site, browser, second, width)
    await other.get_by_role("link", name=re.compile("Thông báo chờ bạn duyệt")).click()
    await other.get_by_role("button", name=re.compile("Duyệt thông báo số")).click()
    await expect(other.locator(".ok")).to_contain_text("Đã duyệt")
    await send_all(ChannelSender(w.db, w.adapter, rate_per_s=0), w.db)
    sandbox = await other.context.new_page()
    await sandbox.goto(w.sandbox.api.removesuffix("/api"))
    await sandbox.get_by_role("link", name="Phụ huynh 2A").click()
    await expect(sandbox.get_by_text("Họp phụ huynh lớp 2A lúc 8 giờ thứ Bảy")).to_be_visible(
        timeout=WAIT_MS
    )
    [post] = await w.news(group)
    assert "Họp phụ huynh lớp 2A lúc 8 giờ thứ Bảy" in post

    # The quarterly report, as DOCX.
    await page.get_by_role("link", name="Báo cáo").click()
    async with page.expect_download() as info:
        await page.get_by_role("button", name="Tải báo cáo").click()
    download = await info.value
    assert download.suggested_filename.endswith(".docx")
    saved = tmp_path / download.suggested_filename
    await download.save_as(saved)
    doc = Document(str(saved))
    totals = next(t for t in doc.tables if t.rows[0].cells[0].text == "Chỉ số")
    assert [row.cells[1].text for row in totals.rows[1:4]] == ["3", "7", "21"], (
        "posts, chats, people: the scenario's 2, 5, 16 and the announcement to the ward's "
        "parents' groups with the bot (1A: 4 people, 2A: 1)"
    )

    for name, path in PAGES.items():
        await page.goto(str(site.client.make_url(path)))
        await fits(page, width)
        if SHOTS:
            await page.screenshot(path=f"{SHOTS}/{name}-{width}.png", full_page=True)


@pytest.mark.parametrize("width", list(WIDTHS))
async def test_a_parents_question_is_answered_on_the_web(
    site: Site, browser: Browser, width: str
) -> None:
    """A parent asks loa in the sandbox; the official answers on the dashboard; the answer
    appears in the parent's chat in the sandbox."""
    w = site.world
    official = await staff(w, "Anh Hùng", "official", "phuong-a")
    parent = await w.person("Phụ huynh Lan")
    await w.grant(parent, "parent", class_code("th-a", "Lớp 1A"))
    await w.say(parent, "Cho hỏi <b>lịch họp</b> phụ huynh ạ?")

    page = await sign_in(site, browser, official, width)
    await page.get_by_role("link", name="Câu hỏi").first.click()
    await expect(page.locator("blockquote")).to_have_text("Cho hỏi <b>lịch họp</b> phụ huynh ạ?")
    await page.get_by_label("Câu trả lời").fill("Họp lúc 8 giờ thứ Bảy tại phòng 203.")
    await page.get_by_role("button", name="Gửi câu trả lời").click()
    await expect(page.locator(".met")).to_contain_text("Đã gửi câu trả lời")
    await fits(page, width)
    if SHOTS:
        await page.screenshot(path=f"{SHOTS}/cau-hoi-da-tra-loi-{width}.png", full_page=True)
    await send_all(ChannelSender(w.db, w.adapter, rate_per_s=0), w.db)

    sandbox = await page.context.new_page()
    await sandbox.goto(w.sandbox.api.removesuffix("/api"))
    if await sandbox.locator("#back").is_visible():
        await sandbox.locator("#back").click()
    await sandbox.locator("#chats a", has_text="Phụ huynh Lan").first.click()
    answer = sandbox.locator(".msg.bot").filter(has_text="Họp lúc 8 giờ thứ Bảy tại phòng 203.")
    await expect(answer.last).to_be_visible(timeout=WAIT_MS)
    await expect(answer.last).to_contain_text("Trả lời câu hỏi của bạn (từ Anh Hùng)")
