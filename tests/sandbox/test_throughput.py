"""sendMessage throughput from another process (slow: run with `pytest -m slow`)."""

from __future__ import annotations

import asyncio
import socket
import subprocess
import sys
import time

import aiohttp
import pytest

TOKEN = "777000:ABCDEFGHIJKLMNOP"
MARKUP = '{"inline_keyboard":[[{"text":"Đã đọc","callback_data":"a"}]]}'


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.mark.slow
async def test_send_message_throughput() -> None:
    port = free_port()
    server = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot.sandbox", "--port", str(port), stdout=subprocess.PIPE
    )
    url = f"http://127.0.0.1:{port}"
    try:
        assert server.stdout is not None
        assert url in (await server.stdout.readline()).decode()
        async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=32)) as http:
            await http.post(f"{url}/sandbox/api/bots", json={"token": TOKEN})
            async with http.post(f"{url}/sandbox/api/users", json={"name": "Bench"}) as r:
                uid = (await r.json())["id"]
            chats = []
            for i in range(100):
                body = {"type": "group", "title": f"Lớp {i}", "members": [uid, 777000]}
                async with http.post(f"{url}/sandbox/api/chats", json=body) as r:
                    chats.append((await r.json())["id"])
            n, statuses = 5000, []

            async def worker(k: int) -> None:
                for i in range(k, n, 32):
                    data = {
                        "chat_id": str(chats[i % len(chats)]),
                        "text": f"<b>Thông báo</b> số {i}",
                        "parse_mode": "HTML",
                        "reply_markup": MARKUP,
                    }
                    async with http.post(f"{url}/bot{TOKEN}/sendMessage", data=data) as r:
                        await r.read()
                        statuses.append(r.status)

            started = time.perf_counter()
            await asyncio.gather(*(worker(k) for k in range(32)))
            rate = n / (time.perf_counter() - started)
        print(f"\nsendMessage: {rate:.0f}/s")
        assert statuses == [200] * n
        assert rate > 1000
    finally:
        server.terminate()
        await asyncio.wait_for(server.wait(), 10)
