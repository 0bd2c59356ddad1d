"""Bot API request parameters from query string, form, multipart or JSON bodies.

Clients such as python-telegram-bot send form bodies in which non-string values (reply_markup,
entities, allowed_updates, poll options...) are JSON-encoded strings; `Params.json` accepts both.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from aiohttp import web

from .errors import bad_request


@dataclass(slots=True)
class Upload:
    """A file sent as a multipart part."""

    filename: str | None
    content_type: str | None
    data: bytes

    def describe(self) -> dict[str, Any]:
        return {"upload": self.filename, "type": self.content_type, "size": len(self.data)}


async def read_params(request: web.Request) -> dict[str, Any]:
    params: dict[str, Any] = dict(request.query) if request.query_string else {}
    if not request.body_exists:
        return params
    ctype = request.content_type
    if ctype in ("application/x-www-form-urlencoded", "multipart/form-data"):
        form = await request.post()
        for key, value in form.items():
            if isinstance(value, web.FileField):
                params[key] = Upload(value.filename, value.content_type, value.file.read())
            else:
                params[key] = value
        return params
    body = await request.read()
    if not body.strip():
        return params
    if ctype == "application/json" or body.lstrip()[:1] == b"{":
        try:
            data = json.loads(body)
        except ValueError:
            raise bad_request("can't parse JSON object") from None
        if not isinstance(data, dict):
            raise bad_request("JSON object expected")
        params.update(data)
    return params


_TRUE = frozenset({"true", "1", "yes", "on"})


class Params:
    __slots__ = ("raw",)

    def __init__(self, raw: dict[str, Any]) -> None:
        self.raw = raw

    def get(self, name: str) -> Any:
        return self.raw.get(name)

    def has(self, name: str) -> bool:
        return self.raw.get(name) not in (None, "")

    def text(self, name: str) -> str | None:
        v = self.raw.get(name)
        if v is None or isinstance(v, str):
            return v
        if isinstance(v, int | float) and not isinstance(v, bool):
            return str(v)
        raise bad_request(f'field "{name}" must be of type String')

    def integer(self, name: str) -> int | None:
        v = self.raw.get(name)
        if v is None or v == "":
            return None
        if isinstance(v, bool):
            raise bad_request(f'field "{name}" must be of type Integer')
        if isinstance(v, int):
            return v
        if isinstance(v, float) and v.is_integer():
            return int(v)
        if isinstance(v, str):
            try:
                return int(v.strip())
            except ValueError:
                pass
        raise bad_request(f"invalid {name} specified")

    def number(self, name: str) -> float | None:
        v = self.raw.get(name)
        if v is None or v == "":
            return None
        try:
            return float(v)
        except (TypeError, ValueError):
            raise bad_request(f"invalid {name} specified") from None

    def flag(self, name: str, default: bool = False) -> bool:
        v = self.raw.get(name)
        if v is None or v == "":
            return default
        if isinstance(v, str):
            return v.strip().lower() in _TRUE
        return bool(v)

    def json(self, name: str) -> Any:
        """The value, JSON-decoded if it arrived as a string. Raises ValueError on bad JSON."""
        v = self.raw.get(name)
        if isinstance(v, str):
            return json.loads(v) if v.strip() else None
        return v

    def chat_ref(self, name: str = "chat_id") -> int | str | None:
        """An int chat id or an "@username"; None when absent."""
        v = self.raw.get(name)
        if v is None or v == "":
            return None
        if isinstance(v, int) and not isinstance(v, bool):
            return v
        if isinstance(v, str):
            s = v.strip()
            try:
                return int(s)
            except ValueError:
                return s
        return str(v)
