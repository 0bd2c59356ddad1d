"""`make run` stopped and started again on the same database: the sandbox is a new peer and
numbers its updates afresh, yet the first message after the restart is answered."""

from __future__ import annotations

import asyncio
from pathlib import Path

from bot.app import App
from bot.config import Settings
from bot.sandbox.client import SandboxClient
from tests.test_demo import free_port

PRINCIPAL = "Hiệu trưởng TH Kim Đồng (minh họa)"


async def ask_for_help(app: App) -> list[str]:
    """The principal writes /huongdan in their private chat; loa's answers there."""
    async with SandboxClient(app.running.urls["sandbox"].removesuffix("/sandbox")) as sandbox:
        chat = next(c for c in await sandbox.chats() if c["title"] == PRINCIPAL)
        await sandbox.write(chat["id"], chat["id"], "/huongdan")
        for _ in range(100):
            answers = [
                m["text"]
                for m in await sandbox.messages(chat["id"])
                if m["sender"]["is_bot"] and "Hướng dẫn sử dụng" in m["text"]
            ]
            if answers:
                return answers
            await asyncio.sleep(0.05)
    return []


async def test_the_first_message_after_a_restart_is_answered(tmp_path: Path) -> None:
    settings = Settings(
        database_url=f"sqlite+aiosqlite:///{tmp_path / 'loa.db'}",
        telegram_token=None,
        web_port=free_port(),
        sandbox_port=free_port(),
    )
    for run in ("first", "after the restart"):
        app = App(settings)
        try:
            await app.start()
            assert await ask_for_help(app), f"/huongdan unanswered, {run}"
        finally:
            await app.stop()
