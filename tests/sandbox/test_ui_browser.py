"""Sandbox mode tried through its web UI alone, in Debian's chromium, at desktop and phone width:
a parent answers the demo items, a teacher makes a group, adds the bot and is asked to bind it.
Skipped without /usr/bin/chromium, except in CI (like the PostgreSQL tests)."""

from __future__ import annotations

import os
import re
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.app import App
from tests.test_demo import sandbox_mode  # noqa: F401 (a fixture)

CHROMIUM = Path("/usr/bin/chromium")
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
WIDTHS = {"desktop": (1280, 800), "phone": (400, 800)}
WAIT_MS = 20_000
TEACHER = "Giáo viên TH Kim Đồng (minh họa)"

if not CHROMIUM.exists():
    reason = f"{CHROMIUM} is missing (apt-get install chromium)"
    if os.environ.get("CI", "").lower() == "true":
        raise RuntimeError(reason)
    pytest.skip(reason, allow_module_level=True)

from playwright.async_api import (  # noqa: E402
    Browser,
    FilePayload,
    Locator,
    Page,
    async_playwright,
    expect,
)

pytestmark = pytest.mark.timeout(120)


@pytest.fixture
def sandbox_url(sandbox_mode: App) -> str:  # noqa: F811 (the imported fixture)
    return sandbox_mode.running.urls["sandbox"]


@pytest.fixture
async def browser() -> AsyncIterator[Browser]:
    async with async_playwright() as p:
        chromium = await p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        try:
            yield chromium
        finally:
            await chromium.close()


async def tap(page: Page, label: str, reply: str) -> None:
    """Tap the newest button `label` and wait for the bot's answer (a toast)."""
    await page.get_by_role("button", name=label, exact=True).last.click(timeout=WAIT_MS)
    await expect(page.locator(".toast").filter(has_text=reply)).to_be_visible(timeout=WAIT_MS)


async def teacher_id(page: Page) -> str:
    option = page.locator("#group-creator option", has_text=TEACHER)
    return str(await option.get_attribute("value"))


@pytest.mark.parametrize("width", list(WIDTHS))
async def test_a_parent_answers_and_a_teacher_binds_a_new_group(
    sandbox_url: str, browser: Browser, width: str
) -> None:
    w, h = WIDTHS[width]
    page = await browser.new_page(viewport={"width": w, "height": h}, locale="vi-VN")
    await page.goto(sandbox_url)

    # A parent: the summary, its quiz and the English club notice, each answered.
    await page.get_by_role("link", name="Phụ huynh lớp 1A").click()
    await tap(page, "Đã hiểu", "đã xác nhận đã hiểu")
    await tap(page, "Bộ Chính trị", "Chính xác!")
    await tap(page, "Con sẽ tham gia", "đã ghi nhận")
    await page.screenshot(path=f"/tmp/loa-ui-{width}-parent.png")

    # A teacher (a role from the start in the demo): a new group, the bot added by them. And a
    # new person, to check one can be made from the page.
    if width == "phone":
        await page.locator("#back").click()
    await page.get_by_text("Tạo người, chat riêng, nhóm").click()
    await page.get_by_placeholder("Họ và tên").fill("Trần Thị Bích")
    await page.get_by_role("button", name="Tạo người").click()
    await expect(page.locator("#group-creator")).to_contain_text("Trần Thị Bích")
    await page.locator("#group-creator").select_option(label=TEACHER)
    await page.get_by_placeholder("Tên nhóm").fill("Phụ huynh lớp 4D")
    await page.screenshot(path=f"/tmp/loa-ui-{width}-setup.png")
    await page.get_by_role("button", name="Tạo nhóm").click()
    await expect(page.locator("#chat-title")).to_have_text("Phụ huynh lớp 4D")
    await expect(page.locator("#as-user")).to_have_value(await teacher_id(page))
    await page.get_by_role("button", name="Thêm bot").click()
    prompt = page.locator(".msg.bot").filter(has_text="Nhóm này thuộc đơn vị nào?")
    await expect(prompt).to_be_visible(timeout=WAIT_MS)
    await expect(page.locator("#member-list")).to_contain_text("(bot)")
    await page.screenshot(path=f"/tmp/loa-ui-{width}-teacher.png")
    await page.close()


OFFICIALS = ("Cán bộ phường (minh họa)", "Phó chủ tịch phường (minh họa)")
PRINCIPAL = "Hiệu trưởng TH Kim Đồng (minh họa)"


def invite_codes(app: App) -> list[str]:
    """The officials' codes, as `loa run` prints them in its next steps."""
    return re.findall(r"send /start (\S+);", "\n".join(app.running.next_steps))


async def open_chat(page: Page, title: str) -> None:
    if await page.locator("#back").is_visible():  # the phone layout shows one pane at a time
        await page.locator("#back").click()
    await page.locator("#chats a", has_text=title).first.click()
    await expect(page.locator("#chat-title")).to_have_text(title)


async def say(page: Page, text: str, answer: str) -> None:
    """Write `text` in the open chat and wait for the bot's message containing `answer`."""
    await page.locator("#text").fill(text)
    await page.locator("#text").press("Enter")
    await expect(bot_message(page, answer)).to_be_visible(timeout=WAIT_MS)


def bot_message(page: Page, text: str) -> Locator:
    return page.locator(".msg.bot").filter(has_text=text).last


async def press(page: Page, label: str, then: str) -> None:
    """Tap the newest button `label`; wait for a bot message containing `then`."""
    await page.get_by_role("button", name=label, exact=True).last.click(timeout=WAIT_MS)
    await expect(bot_message(page, then)).to_be_visible(timeout=WAIT_MS)


@pytest.mark.parametrize("width", list(WIDTHS))
async def test_officials_announce_with_approval_and_staff_bind_and_answer(
    sandbox_mode: App,  # noqa: F811 (the imported fixture)
    browser: Browser,
    width: str,
) -> None:
    w, h = WIDTHS[width]
    page = await browser.new_page(viewport={"width": w, "height": h}, locale="vi-VN")
    await page.goto(sandbox_mode.running.urls["sandbox"])
    author, approver = OFFICIALS
    first_code, second_code = invite_codes(sandbox_mode)

    # Two officials claim their role with the printed codes.
    await open_chat(page, approver)
    await say(page, f"/start {second_code}", "Bạn đã tham gia với vai trò cán bộ phường/xã")
    await open_chat(page, author)
    await say(page, f"/start {first_code}", "Bạn đã tham gia với vai trò cán bộ phường/xã")

    # The first composes an announcement to parents and submits it ...
    await say(page, "/thongbao Họp phụ huynh toàn phường lúc 8 giờ Chủ nhật", "Bản nháp")
    await press(page, "Phụ huynh", "✓ Phụ huynh")  # the draft is edited in place
    await press(page, "Gửi duyệt", "tới 1 cán bộ để duyệt")
    await page.screenshot(path=f"/tmp/loa-ui-{width}-official.png")

    # ... the second approves it, and the author is told.
    await open_chat(page, approver)
    await expect(bot_message(page, "Đề nghị duyệt thông báo số 1")).to_be_visible()
    await press(page, "Duyệt và gửi", "Bạn đã duyệt thông báo số 1")
    await open_chat(page, author)
    await expect(bot_message(page, "đã được")).to_be_visible(timeout=WAIT_MS)

    # A teacher makes a group, adds loa and binds it to the school's parents.
    if await page.locator("#back").is_visible():
        await page.locator("#back").click()
    await page.get_by_text("Tạo người, chat riêng, nhóm").click()
    await page.locator("#group-creator").select_option(label=TEACHER)
    await page.get_by_placeholder("Tên nhóm").fill("Nhóm phụ huynh mới")
    await page.get_by_role("button", name="Tạo nhóm").click()
    await expect(page.locator("#chat-title")).to_have_text("Nhóm phụ huynh mới")
    await page.get_by_role("button", name="Thêm bot").click()
    await expect(bot_message(page, "Nhóm này thuộc đơn vị nào?")).to_be_visible(timeout=WAIT_MS)
    await press(page, "Cả Trường Tiểu học Kim Đồng", "dành cho")
    await press(page, "Phụ huynh", "Đã gắn nhóm với")
    await page.screenshot(path=f"/tmp/loa-ui-{width}-bound.png")

    # The principal answers the "06 rõ" reminder.
    await open_chat(page, PRINCIPAL)
    await expect(bot_message(page, "Nhắc việc theo kế hoạch")).to_be_visible(timeout=WAIT_MS)
    await press(page, "Đã hoàn thành", "Đã ghi nhận «Đã hoàn thành»")
    await page.screenshot(path=f"/tmp/loa-ui-{width}-principal.png")
    await page.close()


async def test_on_zalo_people_answer_by_typing_the_number(
    sandbox_mode: App,  # noqa: F811 (the imported fixture)
    browser: Browser,
) -> None:
    w, h = WIDTHS["desktop"]
    page = await browser.new_page(viewport={"width": w, "height": h}, locale="vi-VN")
    await page.goto(sandbox_mode.running.urls["sandbox"])
    # A parents' group on Zalo Bot: the posts come as plain text with numbered replies.
    await open_chat(page, "Nhóm Zalo phụ huynh lớp 5A")
    await expect(page.locator("#chat-meta")).to_contain_text("Zalo Bot")
    await expect(bot_message(page, "Trả lời 2 nếu chưa tham gia được.")).to_be_visible(
        timeout=WAIT_MS
    )
    await expect(page.locator("#text")).to_have_attribute("placeholder", re.compile("@Loa"))
    await say(page, "@Loa Sandbox 1", "đã ghi nhận")
    # An official on Zalo types the printed code, then answers a numbered choice with "1".
    [(name, code)] = re.findall(r"open the Zalo chat of «(.+?)», type (\S+);",
                                "\n".join(sandbox_mode.running.next_steps))  # fmt: skip
    await open_chat(page, name)
    await say(page, code, "Bạn đã tham gia với vai trò cán bộ phường/xã")
    await say(page, "/thongbao Họp phụ huynh lúc 8 giờ Chủ nhật", "Trả lời bằng một số từ 1")
    await say(page, "1", "✓ Phụ huynh")  # Zalo cannot edit: the draft comes again, updated
    await page.screenshot(path="/tmp/loa-ui-zalo.png")
    await page.close()


async def test_a_parent_asks_in_the_zalo_group_and_reads_the_teachers_answer(
    sandbox_url: str, browser: Browser
) -> None:
    """A parent names loa in the Zalo group; the teacher, on Telegram, taps «Trả lời» and
    types the answer; it comes into the Zalo group, from the Zalo bot."""
    page = await browser.new_page(viewport={"width": 1280, "height": 800}, locale="vi-VN")
    await page.goto(sandbox_url)
    await open_chat(page, "Nhóm Zalo phụ huynh lớp 5A")
    question = "Cô ơi, thứ Bảy này lớp 5A có họp phụ huynh không ạ?"
    await say(page, f"@Loa Sandbox {question}", "Loa đã chuyển câu hỏi, góp ý của bạn")
    await open_chat(page, TEACHER)
    await expect(bot_message(page, question)).to_be_visible(timeout=WAIT_MS)
    await press(page, "Trả lời", "Gõ câu trả lời")
    await say(page, "Có ạ, 8 giờ sáng thứ Bảy tại phòng 5A.", "Đã gửi câu trả lời")
    await open_chat(page, "Nhóm Zalo phụ huynh lớp 5A")
    answer = bot_message(page, "8 giờ sáng thứ Bảy tại phòng 5A")
    await expect(answer).to_be_visible(timeout=WAIT_MS)
    await expect(answer).to_contain_text("Trả lời câu hỏi của bạn")
    await page.screenshot(path="/tmp/loa-ui-zalo-question.png")
    await page.close()


async def test_a_teacher_sends_a_document_as_evidence_from_the_page(
    sandbox_url: str, browser: Browser
) -> None:
    page = await browser.new_page(viewport={"width": 1280, "height": 800}, locale="vi-VN")
    await page.goto(sandbox_url)
    await open_chat(page, TEACHER)
    await say(page, "/baocao", "Báo cáo hoạt động")
    pdf: FilePayload = {"name": "bien-ban.pdf", "mimeType": "application/pdf", "buffer": b"%PDF"}
    await page.locator("#file").set_input_files(files=[pdf])
    await expect(page.locator(".msg").filter(has_text="📎 bien-ban.pdf")).to_be_visible(
        timeout=WAIT_MS
    )
    saved = bot_message(page, "Đã lưu tài liệu minh chứng cho báo cáo hoạt động số")
    await expect(saved).to_be_visible(timeout=WAIT_MS)
    await page.screenshot(path="/tmp/loa-ui-evidence.png")
    await page.close()
