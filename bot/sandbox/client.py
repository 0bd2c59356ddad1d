"""A client of the sandbox's control API, for the demo ward, benchmarks and tests."""

from __future__ import annotations

import base64
from typing import Any

import aiohttp


class SandboxError(Exception):
    pass


class SandboxClient:
    def __init__(self, base_url: str, session: aiohttp.ClientSession | None = None) -> None:
        self.api = base_url.rstrip("/") + "/sandbox/api"
        self._session = session
        self._own_session = session is None

    async def __aenter__(self) -> SandboxClient:
        if self._session is None:
            self._session = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(limit=64),
                timeout=aiohttp.ClientTimeout(total=120),
            )
        return self

    async def __aexit__(self, *_: object) -> None:
        if self._own_session and self._session is not None:
            await self._session.close()
            self._session = None

    async def call(self, verb: str, path: str, body: dict[str, Any] | None = None) -> Any:
        assert self._session is not None, "use `async with SandboxClient(...)`"
        async with self._session.request(verb, f"{self.api}/{path}", json=body) as response:
            data = await response.json(content_type=None)
            if response.status >= 400:
                raise SandboxError(f"{verb} {path}: {response.status} {data}")
            return data

    async def create_user(self, name: str) -> int:
        return int((await self.call("POST", "users", {"name": name}))["id"])

    async def create_chat(
        self,
        title: str,
        *,
        type: str = "group",
        platform: str = "telegram",
        members: list[int] | None = None,
        user_id: int | None = None,
    ) -> int:
        body: dict[str, Any] = {"platform": platform, "type": type, "title": title}
        if members:
            body["members"] = members
        if user_id is not None:
            body["user_id"] = user_id
        return int((await self.call("POST", "chats", body))["id"])

    async def add_member(self, chat_id: int, user_id: int, by_user_id: int | None = None) -> None:
        body: dict[str, Any] = {"user_id": user_id}
        if by_user_id is not None:
            body["by_user_id"] = by_user_id
        await self.call("POST", f"chats/{chat_id}/members", body)

    async def messages(self, chat_id: int | str) -> list[dict[str, Any]]:
        result: list[dict[str, Any]] = await self.call("GET", f"chats/{chat_id}/messages")
        return result

    async def log(self, method: str | None = None, since: float | None = None) -> list[Any]:
        query = "&".join(
            f"{k}={v}" for k, v in (("method", method), ("since", since)) if v is not None
        )
        result: list[Any] = await self.call("GET", "log" + (f"?{query}" if query else ""))
        return result

    async def limits(self, **limits: float | None) -> None:
        await self.call("POST", "limits", limits)

    async def fault(self, **fault: Any) -> None:
        await self.call("POST", "faults", fault)

    async def reset(self) -> None:
        await self.call("POST", "reset")

    # Additions by the sandbox's author; the methods above keep their signatures.

    async def register_bot(self, token: str) -> int:
        return int((await self.call("POST", "bots", {"token": token}))["id"])

    async def remove_member(self, chat_id: int | str, user_id: int) -> None:
        await self.call("DELETE", f"chats/{chat_id}/members/{user_id}")

    async def migrate(self, chat_id: int | str) -> int:
        return int((await self.call("POST", f"chats/{chat_id}/migrate"))["new_id"])

    async def write(
        self, chat_id: int | str, user_id: int, text: str, reply_to: int | None = None
    ) -> int:
        body: dict[str, Any] = {"user_id": user_id, "text": text}
        if reply_to is not None:
            body["reply_to_message_id"] = reply_to
        return int((await self.call("POST", f"chats/{chat_id}/messages", body))["message_id"])

    async def send_file(
        self,
        chat_id: int | str,
        user_id: int,
        kind: str,
        *,
        file_name: str | None = None,
        mime_type: str | None = None,
        size: int | None = None,
        caption: str | None = None,
        data: bytes = b"",
    ) -> int:
        """A user sends a photo or a document (`size` defaults to the length of `data`)."""
        body: dict[str, Any] = {"user_id": user_id, "kind": kind}
        if data:
            body["data"] = base64.b64encode(data).decode()
        extra = {"file_name": file_name, "mime_type": mime_type, "size": size, "caption": caption}
        body.update({k: v for k, v in extra.items() if v is not None})
        return int((await self.call("POST", f"chats/{chat_id}/files", body))["message_id"])

    async def press(
        self, chat_id: int | str, user_id: int, message_id: int, callback_data: str
    ) -> str:
        body = {"user_id": user_id, "message_id": message_id, "callback_data": callback_data}
        return str((await self.call("POST", f"chats/{chat_id}/press", body))["callback_query_id"])

    async def answer_poll(self, poll_id: str, user_id: int, option_ids: list[int]) -> Any:
        body = {"user_id": user_id, "option_ids": option_ids}
        return await self.call("POST", f"polls/{poll_id}/answer", body)

    async def chats(self) -> list[Any]:
        result: list[Any] = await self.call("GET", "chats")
        return result

    async def clear_faults(self) -> None:
        await self.call("DELETE", "faults")
