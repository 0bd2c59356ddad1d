"""Sandbox mode's first minutes: the demo ward, what it sends, what `loa run` prints, the web
root page; and what an operator needs going live (role words, the examples checked)."""

from __future__ import annotations

import asyncio
import shutil
import socket
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest
import yaml

from bot.app import App, Running
from bot.cli import main
from bot.config import DEFAULT_CONTENT_DIR, Settings
from bot.sandbox.client import SandboxClient
from bot.services import demo


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def test_every_demo_group_has_its_own_full_title() -> None:
    spec = yaml.safe_load(demo.WARD_FILE.read_text(encoding="utf-8"))
    titles = [group["title"] for group in spec["groups"]]
    assert len(set(titles)) == len(titles)
    staff = [g["title"] for g in spec["groups"] if g["audience"] == "teachers"]
    assert staff == [
        "Cán bộ, giáo viên MN Hoa Sen",
        "Cán bộ, giáo viên TH Kim Đồng",
        "Cán bộ, giáo viên THCS Lê Quý Đôn",
    ]


@pytest.fixture
async def sandbox_mode(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[App]:
    """`loa run` in sandbox mode on free ports, its demo items due 1-4 seconds after start."""
    ward = yaml.safe_load(demo.WARD_FILE.read_text(encoding="utf-8"))
    for n, post in enumerate(ward["posts"], 1):
        post["after_seconds"] = n
    ward["task"]["after_seconds"] = len(ward["posts"]) + 1
    ward_file = tmp_path / "ward.yaml"
    ward_file.write_text(yaml.safe_dump(ward, allow_unicode=True), encoding="utf-8")
    monkeypatch.setattr(demo, "WARD_FILE", ward_file)
    settings = Settings(
        database_url=f"sqlite+aiosqlite:///{tmp_path / 'loa.db'}",
        telegram_token=None,
        web_port=free_port(),
        sandbox_port=free_port(),
    )
    app = App(settings)
    try:
        await app.start()
        yield app
    finally:
        await app.stop()


async def texts_in(sandbox: SandboxClient, title: str, count: int) -> list[dict[str, object]]:
    chat = next(c for c in await sandbox.chats() if c["title"] == title)
    for _ in range(100):
        messages = [m for m in await sandbox.messages(chat["id"]) if m["sender"]["is_bot"]]
        if len(messages) >= count:
            return messages
        await asyncio.sleep(0.1)
    raise AssertionError(f"{title}: {len(messages)} bot message(s), expected {count}")


def labels(message: dict[str, object]) -> list[str]:
    markup = message.get("reply_markup") or {}
    assert isinstance(markup, dict)
    return [b["text"] for row in markup.get("inline_keyboard", []) for b in row]


async def test_the_demo_sends_its_items_to_parents_and_a_task_to_staff(
    sandbox_mode: App,
) -> None:
    running: Running = sandbox_mode.running
    api = running.urls["sandbox"].removesuffix("/sandbox")
    async with SandboxClient(api) as sandbox:
        summary, quiz, club = await texts_in(sandbox, "Phụ huynh lớp 1A", 3)
        assert "Phường Hòa Bình (minh họa)" in str(summary["text"])
        assert labels(summary) == ["Đã hiểu"]
        assert labels(quiz) == ["Bộ Chính trị", "Chính phủ", "UBND phường"]
        assert labels(club) == ["Con sẽ tham gia", "Chưa tham gia được"]
        assert "Bắc Kạn" not in str(club["text"])
        # The real wards' campaigns are examples, not sent in sandbox mode.
        assert not any("Việt Yên" in str(m["text"]) for m in (summary, quiz, club))
        [reminder] = await texts_in(sandbox, "Hiệu trưởng TH Kim Đồng (minh họa)", 1)
        assert "Nhắc việc" in str(reminder["text"])
        titles = {c["title"] for c in await sandbox.chats()}
        assert "Cán bộ, giáo viên THCS Lê Quý Đôn" in titles
    steps = "\n".join(running.next_steps)
    assert steps.index("parent") < steps.index("official") < steps.index("teacher")
    assert "/start " in steps and "quiet hours" in steps
    assert "/dangnhap" in steps and "/admin/vao/" in steps


async def test_the_web_root_says_what_loa_is_and_where_the_sandbox_is(sandbox_mode: App) -> None:
    urls = sandbox_mode.running.urls
    async with aiohttp.ClientSession() as http, http.get(urls["web"] + "/") as resp:
        assert resp.status == 200
        page = await resp.text()
    assert urls["sandbox"] in page and "/healthz" in page
    assert '<html lang="vi">' in page and "Bản dùng thử" in page


def test_loa_invite_takes_the_chats_role_words(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("LOA_DATABASE_URL", f"sqlite+aiosqlite:///{tmp_path / 'loa.db'}")
    monkeypatch.delenv("LOA_TELEGRAM_TOKEN", raising=False)
    assert main(["invite", "--role", "canbo", "--unit", "demo-phuong-hoa-binh"]) == 0
    assert "role:    official of demo-phuong-hoa-binh" in capsys.readouterr().out
    with pytest.raises(SystemExit):
        main(["invite", "--role", "hieutruong", "--unit", "demo-phuong-hoa-binh"])
    err = capsys.readouterr().err
    assert "unknown role 'hieutruong'" in err and "giaovien" in err


def test_content_check_checks_the_examples(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    content = tmp_path / "content"
    shutil.copytree(DEFAULT_CONTENT_DIR, content)
    assert main(["content", "check", str(content)]) == 0
    broken = content / "examples" / "plans" / "viet-yen-nq71.yaml"
    broken.write_text("id: viet_yen_nq71\ntitle: [unclosed\n", encoding="utf-8")
    assert main(["content", "check", str(content)]) == 1
    assert str(broken) in capsys.readouterr().out


async def test_the_demo_zalo_group_gets_numbered_replies_and_a_typed_one_counts(
    sandbox_mode: App,
) -> None:
    api = sandbox_mode.running.urls["sandbox"].removesuffix("/sandbox")
    title = "Nhóm Zalo phụ huynh lớp 5A"
    async with SandboxClient(api) as sandbox:
        summary, quiz, _club = await texts_in(sandbox, title, 3)
        assert "Trả lời 1 nếu đã hiểu." in str(summary["text"])
        assert "<" not in str(summary["text"]) and summary["reply_markup"] is None
        assert "1. Bộ Chính trị" in str(quiz["text"])
        chat = next(c for c in await sandbox.chats() if c["title"] == title)
        member = next(m for m in (await sandbox.call("GET", f"chats/{chat['id']}"))["members"]
                      if not m["is_bot"])  # fmt: skip
        await sandbox.call(
            "POST", f"chats/{chat['id']}/messages",
            {"user_id": member["id"], "text": "@Loa Sandbox 1", "reply_to_message_id": None},
        )  # fmt: skip
        # the latest numbers in the group are the English club's: 1 = «Con sẽ tham gia»
        thanks = (await texts_in(sandbox, title, 4))[3]
        assert "Cảm ơn" in str(thanks["text"])
    steps = "\n".join(sandbox_mode.running.next_steps)
    assert title in steps and "@Loa Sandbox 1" in steps


async def test_loa_run_watches_feedback_trends_and_labels_what_is_unlabelled(
    sandbox_mode: App,
) -> None:
    scheduler = sandbox_mode._scheduler
    assert scheduler is not None
    jobs = set(scheduler.job_ids())
    assert {"labels:catch-up", "trends:weekly", "trends:bursts"} <= jobs
