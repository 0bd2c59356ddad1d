"""`loa` as an operator runs it: a real process, a clean environment, an empty folder.

Every LOA_ variable of the test run is dropped and the working directory is a temporary
folder, so neither the developer's environment nor a `.env` file leaks in.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import aiohttp
import pytest

REPO = Path(__file__).resolve().parent.parent
_SCRIPT = Path(sys.executable).with_name("loa")
LOA = [str(_SCRIPT)] if _SCRIPT.exists() else [sys.executable, "-m", "bot.cli"]
UNREACHABLE = "postgresql+asyncpg://postgres:s3cret-pw@127.0.0.1:1/nothing"


def clean_env(**loa: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("LOA_")}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH")]))
    env.update(loa)
    return env


@dataclass
class Exit:
    code: int
    stdout: str
    stderr: str
    seconds: float

    @property
    def output(self) -> str:
        return self.stdout + self.stderr

    @property
    def error_lines(self) -> list[str]:
        return self.stderr.strip().splitlines()


def loa(cwd: Path, *args: str, env: dict[str, str], timeout: float = 20.0) -> Exit:
    """Run `loa *args` in `cwd` with only the LOA_ variables of `env`."""
    started = time.monotonic()
    done = subprocess.run(
        [*LOA, *args],
        cwd=cwd,
        env=clean_env(**env),
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    return Exit(done.returncode, done.stdout, done.stderr, time.monotonic() - started)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("LOA_WEB_PORT", "abc"),
        ("LOA_WEB_PORT", "70000"),
        ("LOA_TELEGRAM_TOKEN", "not-a-token"),
        ("LOA_DATABASE_URL", "mysql://x"),
        ("LOA_QUIET_HOURS", "21:00"),
        ("LOA_TIMEZONE", "Mars/Olympus_Mons"),
    ],
)
def test_a_wrong_setting_is_one_line_naming_it(tmp_path: Path, variable: str, value: str) -> None:
    result = loa(tmp_path, "run", env={variable: value})
    assert result.code == 2, result.output
    assert result.stdout == ""
    assert len(result.error_lines) == 1, result.stderr
    assert variable in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize(
    ("variable", "value", "secret"),
    [
        ("LOA_TELEGRAM_TOKEN", "not-a-token", "not-a-token"),
        ("LOA_TELEGRAM_TOKEN", "123456:tooShort", "tooShort"),
        ("LOA_ZALO_BOT_TOKEN", "123456:tooShort", "tooShort"),
        ("LOA_WEBHOOK_SECRET", "has spaces and $ signs", "spaces and $"),
        ("LOA_DATABASE_URL", "mysql://loa:hunter2-pw@db.example/loa", "hunter2-pw"),
    ],
)
def test_a_wrong_secret_is_never_echoed(
    tmp_path: Path, variable: str, value: str, secret: str
) -> None:
    result = loa(tmp_path, "run", env={variable: value})
    assert result.code == 2, result.output
    assert variable in result.stderr
    assert secret not in result.output


def test_an_unreachable_zalo_bot_api_is_one_clear_line(tmp_path: Path) -> None:
    env = {
        "LOA_ZALO_BOT_TOKEN": "1234567890:zalo-secret-token",
        "LOA_ZALO_BOT_API_URL": f"http://127.0.0.1:{free_port()}",
        "LOA_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'loa.db'}",
        "LOA_WEB_PORT": str(free_port()),
    }
    result = loa(tmp_path, "run", env=env)
    assert result.code == 1, result.output
    assert len(result.error_lines) == 1, result.stderr
    assert "LOA_ZALO_BOT_API_URL" in result.error_lines[0]
    assert "zalo-secret-token" not in result.output and "Traceback" not in result.output


@pytest.mark.parametrize("command", [["db", "upgrade"], ["run"]])
def test_an_unreachable_database_is_one_clear_line(tmp_path: Path, command: list[str]) -> None:
    result = loa(tmp_path, *command, env={"LOA_DATABASE_URL": UNREACHABLE})
    assert result.code == 1, result.output
    assert len(result.error_lines) == 1, result.stderr
    line = result.error_lines[0]
    assert "database unreachable" in line
    assert "LOA_DATABASE_URL" in line
    assert "s3cret-pw" not in result.output  # the password is masked
    assert "Traceback" not in result.output
    assert "loa is ready" not in result.stdout
    assert result.seconds < 20


@pytest.mark.parametrize(
    ("broken", "text"),
    [
        ("templates/start.j2", "{% if name %}\nXin chào {{ name }}\n"),  # no endif
        ("plans/viet-yen-nq71.yaml", "id: viet_yen_nq71\ntitle: [unclosed\n"),
        ("campaigns/bac-kan-ngoai-ngu.yaml", "id: x\nplan: no_such_plan\ntitle: t\nposts: []\n"),
    ],
)
def test_broken_content_stops_the_start(tmp_path: Path, broken: str, text: str) -> None:
    content = tmp_path / "content"
    shutil.copytree(REPO / "content", content)
    start = content / broken
    start.write_text(text, encoding="utf-8")
    result = loa(
        tmp_path,
        "run",
        env={
            "LOA_CONTENT_DIR": str(content),
            "LOA_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'loa.db'}",
            "LOA_WEB_PORT": str(free_port()),
            "LOA_SANDBOX_PORT": str(free_port()),
        },
    )
    assert result.code == 1, result.output
    assert "loa is ready" not in result.stdout
    assert len(result.error_lines) == 1, result.stderr
    assert str(start) in result.stderr  # which file, so the operator can open it
    assert "Traceback" not in result.output


def test_a_port_in_use_is_one_clear_line(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = loa(
            tmp_path,
            "run",
            env={
                "LOA_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'loa.db'}",
                "LOA_WEB_PORT": str(port),
                "LOA_SANDBOX_PORT": str(free_port()),
            },
        )
    assert result.code == 1, result.output
    assert "loa is ready" not in result.stdout
    assert "Traceback" not in result.stderr, result.stderr[-400:]
    assert len(result.error_lines) == 1
    assert "LOA_WEB_PORT" in result.stderr


async def test_sandbox_mode_starts_serves_and_drains_on_sigterm(tmp_path: Path) -> None:
    web_port, sandbox_port = free_port(), free_port()
    stderr_path = tmp_path / "stderr.log"
    with stderr_path.open("wb") as stderr_file:  # a file: a full pipe would block the logger
        process = await asyncio.create_subprocess_exec(
            *LOA,
            "run",
            cwd=tmp_path,
            env=clean_env(
                LOA_DATABASE_URL=f"sqlite+aiosqlite:///{tmp_path / 'loa.db'}",
                LOA_WEB_PORT=str(web_port),
                LOA_SANDBOX_PORT=str(sandbox_port),
            ),
            stdout=asyncio.subprocess.PIPE,
            stderr=stderr_file,
        )
    assert process.stdout is not None
    try:
        banner: list[str] = []
        async with asyncio.timeout(30):
            while not any("loa is ready" in line for line in banner):
                line = await process.stdout.readline()
                if not line:
                    pytest.fail(f"loa exited before it was ready:\n{stderr_path.read_text()}")
                banner.append(line.decode())
        assert "sandbox mode" in banner[-1]

        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=10)) as http:
            async with http.get(f"http://127.0.0.1:{web_port}/healthz") as response:
                assert response.status == 200, await response.text()
            chats_url = f"http://127.0.0.1:{sandbox_port}/sandbox/api/chats"
            async with http.get(chats_url) as response:
                assert response.status == 200
                chats = await response.json()
        parents = [c for c in chats if c["type"] == "group" and c["title"].startswith("Phụ huynh")]
        assert len(parents) >= 10, [c["title"] for c in chats]

        process.send_signal(signal.SIGTERM)
        stopped_at = time.monotonic()
        async with asyncio.timeout(30):
            rest, _ = await process.communicate()
        took = time.monotonic() - stopped_at
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
    errors = stderr_path.read_text(encoding="utf-8")
    assert process.returncode == 0, errors[-2000:]
    assert "loa is stopping" in rest.decode()
    assert "Traceback" not in errors
    assert took < 30
