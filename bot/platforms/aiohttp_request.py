"""PTB's HTTP transport on one shared aiohttp session (about five times httpx's throughput).

Transport failures are sorted by whether the request may have reached the server:
- `NotSent`: no connection could be had (refused, DNS, TLS, connect or pool timeout); the request
  never left, so sending it again cannot make a duplicate.
- `MaybeSent`: the request was (or may have been) written and no full answer came back (read
  timeout, connection dropped, truncated body); the server may have acted on it.
Both are TelegramError subclasses, so PTB passes them through instead of wrapping them.
"""

from __future__ import annotations

import asyncio
import re

import aiohttp
from telegram._utils.defaultvalue import DefaultValue
from telegram._utils.types import ODVInput
from telegram.error import NetworkError, TimedOut
from telegram.request import BaseRequest, RequestData

_TOKEN_IN_URL = re.compile(r"/bot[^/\s]+")
_FORM = {"Content-Type": "application/x-www-form-urlencoded"}


class NotSent(NetworkError):
    """The request never left this machine: safe to send again."""


class MaybeSent(TimedOut):
    """The request may have reached the server, and no answer came back."""


def _describe(kind: str, err: BaseException) -> str:
    """`kind: ErrorClass: detail`, with any bot token in a URL blanked out."""
    detail = _TOKEN_IN_URL.sub("/bot<token>", str(err))
    return f"{kind}: {type(err).__name__}" + (f": {detail}" if detail else "")


def _body_unsent(err: BaseException) -> bool:
    """aiohttp found the connection already closing when it wrote the body (typically a pooled
    connection the server had just closed): the request is incomplete, so it cannot be acted on.
    """
    return isinstance(err, aiohttp.ClientOSError) and isinstance(
        err.__cause__, aiohttp.ClientConnectionResetError
    )


def _pick(value: ODVInput[float], default: float | None) -> float | None:
    return default if isinstance(value, DefaultValue) else value


class AiohttpRequest(BaseRequest):
    """A `telegram.request.BaseRequest` over one keep-alive `aiohttp.ClientSession`.

    `pool_size` bounds the open connections; a request waits up to `pool_timeout` for one.
    aiohttp has no write timeout, so `write_timeout` arguments are ignored.
    """

    __slots__ = (
        "_connect_timeout",
        "_pool_size",
        "_pool_timeout",
        "_read_timeout",
        "_session",
        "_slots",
    )

    def __init__(
        self,
        pool_size: int = 64,
        *,
        read_timeout: float | None = 5.0,
        connect_timeout: float | None = 5.0,
        pool_timeout: float | None = 1.0,
    ) -> None:
        self._pool_size = pool_size
        self._read_timeout = read_timeout
        self._connect_timeout = connect_timeout
        self._pool_timeout = pool_timeout
        self._session: aiohttp.ClientSession | None = None
        # Waiting for a connection is done here, not in aiohttp, whose connect timeout would
        # lump the wait together with opening a connection.
        self._slots = asyncio.Semaphore(pool_size)

    @property
    def read_timeout(self) -> float | None:
        return self._read_timeout

    async def initialize(self) -> None:
        if self._session is None or self._session.closed:
            connector = aiohttp.TCPConnector(limit=self._pool_size, limit_per_host=0)
            self._session = aiohttp.ClientSession(
                connector=connector, headers={"User-Agent": self.USER_AGENT}
            )

    async def shutdown(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def do_request(
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        read_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
        write_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
        connect_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
        pool_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
    ) -> tuple[int, bytes]:
        if self._session is None or self._session.closed:
            raise RuntimeError("AiohttpRequest is not initialized")
        connect = _pick(connect_timeout, self._connect_timeout)
        timeout = aiohttp.ClientTimeout(
            total=None,
            connect=connect,
            sock_connect=connect,
            sock_read=_pick(read_timeout, self._read_timeout),
        )
        data: aiohttp.FormData | bytes | None = None
        headers: dict[str, str] | None = None
        if request_data is not None and request_data.multipart_data:
            data = aiohttp.FormData()
            for name, value in request_data.json_parameters.items():
                data.add_field(name, value)
            for name, (filename, content, mime) in request_data.multipart_data.items():
                data.add_field(name, content, filename=filename, content_type=mime)
        elif request_data is not None:
            data, headers = request_data.url_encoded_parameters().encode(), _FORM
        try:
            async with asyncio.timeout(_pick(pool_timeout, self._pool_timeout)):
                await self._slots.acquire()
        except TimeoutError:
            raise NotSent("not sent: every pooled connection stayed busy (pool timeout)") from None
        try:
            async with self._session.request(
                method, url, data=data, headers=headers, timeout=timeout
            ) as response:
                return response.status, await response.read()
        except (
            aiohttp.ConnectionTimeoutError,
            aiohttp.ClientConnectorError,
            aiohttp.InvalidURL,
        ) as err:
            raise NotSent(_describe("not sent", err)) from None
        except (TimeoutError, aiohttp.ClientError, OSError) as err:
            # Tokens appear in URLs, so the original exception is not chained.
            if _body_unsent(err):
                raise NotSent(_describe("not sent", err)) from None
            raise MaybeSent(_describe("no answer", err)) from None
        finally:
            self._slots.release()
