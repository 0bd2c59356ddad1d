"""A TCP proxy for fault-injection tests: put it between a client and a server, then cut.

    proxy = TcpProxy("127.0.0.1", 5432)
    port = await proxy.start()      # listen on 127.0.0.1:<port>
    proxy.cut()                     # drop every connection; refuse new ones (the port closes)
    await proxy.restore()           # listen again on the same port
    proxy.cut_after_next(b"COMMIT") # forward the next client chunk holding b"COMMIT", then drop
                                    # that connection before the server's answer comes back
    await proxy.stop()

`cut` and `cut_after_next` are synchronous, so they may be called from anywhere on the loop's
thread (a SQLAlchemy event hook included).
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Coroutine
from typing import Any


class _Pipe:
    """One client connection and its upstream connection."""

    def __init__(self, proxy: TcpProxy, client: asyncio.StreamWriter) -> None:
        self.proxy = proxy
        self.client = client
        self.upstream: asyncio.StreamWriter | None = None
        self.dead = False

    def kill(self) -> None:
        """Drop both sides at once (RST): nothing more goes either way."""
        self.dead = True
        self.client.transport.abort()
        if self.upstream is not None:
            self.upstream.transport.abort()

    def kill_after_forwarding(self) -> None:
        """Drop the client at once, but let the server read what was already forwarded."""
        self.dead = True
        self.client.transport.abort()
        if self.upstream is not None:
            self.upstream.close()  # FIN after the buffered bytes: the server reads them all


class TcpProxy:
    def __init__(self, upstream_host: str, upstream_port: int, host: str = "127.0.0.1") -> None:
        self.upstream_host, self.upstream_port, self.host = upstream_host, upstream_port, host
        self.port = 0
        self._server: asyncio.Server | None = None
        self._pipes: set[_Pipe] = set()
        self._tasks: set[asyncio.Task[None]] = set()
        self._cut_marker: bytes | None = None
        self.cuts: list[float] = []  # time.time() of every cut
        self.refused = False
        self.connections = 0  # accepted so far

    async def start(self) -> int:
        await self._listen()
        return self.port

    async def _listen(self) -> None:
        self._server = await asyncio.start_server(
            self._accept, self.host, self.port, reuse_address=True
        )
        self.port = self._server.sockets[0].getsockname()[1]
        self.refused = False

    def cut(self) -> None:
        """The database goes away: live connections are reset and the port stops listening."""
        self.cuts.append(time.time())
        self.refused = True
        if self._server is not None:
            self._server.close()
            self._server = None
        for pipe in list(self._pipes):
            pipe.kill()

    async def restore(self) -> None:
        """The database is back on the same address."""
        if self._server is None:
            await self._listen()

    async def has_cut(self) -> bool:
        """Whether a cut happened yet (for polling loops)."""
        return bool(self.cuts)

    def cut_after_next(self, marker: bytes) -> None:
        """Forward the next client chunk that contains `marker`, then drop its connection
        before any answer can come back (the server still reads and acts on the chunk)."""
        self._cut_marker = marker

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            self._server = None
        for pipe in list(self._pipes):
            pipe.kill()
        for task in list(self._tasks):
            task.cancel()
        if self._tasks:
            await asyncio.wait(list(self._tasks), timeout=5)

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        if self.refused:  # accepted in the instant before the cut closed the port
            writer.transport.abort()
            return
        self.connections += 1
        pipe = _Pipe(self, writer)
        self._pipes.add(pipe)
        try:
            try:
                up_reader, up_writer = await asyncio.open_connection(
                    self.upstream_host, self.upstream_port
                )
            except OSError:
                writer.transport.abort()
                return
            pipe.upstream = up_writer
            if pipe.dead:
                pipe.kill()
                return
            forward = self._spawn(self._copy(pipe, reader, up_writer, from_client=True))
            backward = self._spawn(self._copy(pipe, up_reader, writer, from_client=False))
            await asyncio.wait([forward, backward], return_when=asyncio.FIRST_COMPLETED)
        finally:
            if not pipe.dead:
                pipe.kill()
            self._pipes.discard(pipe)

    def _spawn(self, coroutine: Coroutine[Any, Any, None]) -> asyncio.Task[None]:
        task = asyncio.create_task(coroutine)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    async def _copy(
        self,
        pipe: _Pipe,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
        *,
        from_client: bool,
    ) -> None:
        with contextlib.suppress(OSError, asyncio.IncompleteReadError):
            while not pipe.dead:
                data = await reader.read(65536)
                if not data or pipe.dead:
                    return
                writer.write(data)
                marker = self._cut_marker
                if from_client and marker is not None and marker in data:
                    self._cut_marker = None
                    self.cuts.append(time.time())
                    pipe.kill_after_forwarding()
                    return
                await writer.drain()
