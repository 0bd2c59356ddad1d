"""The transport on its own, against raw sockets: which failures mean "not sent"."""

from __future__ import annotations

import asyncio
import json
import socket
from collections.abc import AsyncIterator, Awaitable, Callable

import pytest
from aiohttp import web
from telegram import InputFile
from telegram.request import RequestData
from telegram.request._requestparameter import RequestParameter

from bot.platforms.aiohttp_request import AiohttpRequest, MaybeSent, NotSent

TOKEN = "123:SECRET-token"
Handler = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
    return port  # closed again: nothing listens there


async def _raw_server(handler: Handler) -> tuple[asyncio.Server, str]:
    server = await asyncio.start_server(handler, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    return server, f"http://127.0.0.1:{port}/bot{TOKEN}/sendMessage"


async def _read_request(reader: asyncio.StreamReader) -> None:
    head = await reader.readuntil(b"\r\n\r\n")
    length = next(
        int(line.split(b":")[1])
        for line in head.split(b"\r\n")
        if line.lower().startswith(b"content-length")
    )
    await reader.readexactly(length)


def _data(**params: object) -> RequestData:
    return RequestData([RequestParameter.from_input(k, v) for k, v in params.items()])


@pytest.fixture
async def request_() -> AsyncIterator[AiohttpRequest]:
    req = AiohttpRequest(1, read_timeout=0.3, connect_timeout=0.3, pool_timeout=0.2)
    await req.initialize()
    yield req
    await req.shutdown()


async def test_closed_port_is_not_sent(request_: AiohttpRequest) -> None:
    with pytest.raises(NotSent) as caught:
        await request_.post(f"http://127.0.0.1:{_free_port()}/bot{TOKEN}/getMe")
    assert "SECRET" not in str(caught.value)


async def test_dns_failure_is_not_sent(request_: AiohttpRequest) -> None:
    with pytest.raises(NotSent):
        await request_.post(f"http://no-such-host.invalid/bot{TOKEN}/getMe")


async def test_silent_server_is_maybe_sent(request_: AiohttpRequest) -> None:
    got_request = asyncio.Event()

    async def hang(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await _read_request(reader)
        got_request.set()
        await reader.read()  # until the client gives up and closes

    server, url = await _raw_server(hang)
    async with server:
        with pytest.raises(MaybeSent) as caught:
            await request_.post(url, _data(chat_id=1, text="hello"))
        assert got_request.is_set()
        assert "SECRET" not in str(caught.value) and "hello" not in str(caught.value)


async def test_dropped_connection_is_maybe_sent(request_: AiohttpRequest) -> None:
    async def drop(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await _read_request(reader)
        writer.close()

    server, url = await _raw_server(drop)
    async with server:
        with pytest.raises(MaybeSent):
            await request_.post(url, _data(chat_id=1, text="hello"))


async def test_full_pool_is_not_sent() -> None:
    async def hang(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.read()

    server, url = await _raw_server(hang)
    async with server, AiohttpRequest(1, read_timeout=5, pool_timeout=0.1) as request_:
        first = asyncio.create_task(request_.post(url, _data(chat_id=1, text="a")))
        await asyncio.sleep(0.05)  # it holds the only connection
        with pytest.raises(NotSent):
            await request_.post(url, _data(chat_id=1, text="b"))
        first.cancel()


async def test_form_and_multipart_bodies(request_: AiohttpRequest) -> None:
    async def echo(request: web.Request) -> web.Response:
        form = await request.post()
        fields = {
            k: v.file.read().decode() if isinstance(v, web.FileField) else str(v)
            for k, v in form.items()
        }
        result = {"type": request.content_type, "fields": fields}
        return web.json_response({"ok": True, "result": result})

    app = web.Application()
    app.router.add_post("/bot{token}/{method}", echo)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    try:
        url = f"http://127.0.0.1:{port}/bot{TOKEN}/sendX"
        form = await request_.post(url, _data(chat_id=5, text="chào", reply_markup={"a": [1]}))
        assert form == {
            "type": "application/x-www-form-urlencoded",
            "fields": {"chat_id": "5", "text": "chào", "reply_markup": json.dumps({"a": [1]})},
        }
        upload = InputFile(b"file-bytes", filename="a.txt", attach=True)
        multi = await request_.post(url, _data(chat_id=5, document=upload))
        assert isinstance(multi, dict)
        assert multi["type"] == "multipart/form-data"
        assert multi["fields"]["chat_id"] == "5"
        assert multi["fields"]["document"].startswith("attach://")
        assert "file-bytes" in multi["fields"].values()
    finally:
        await runner.cleanup()
