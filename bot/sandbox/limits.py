"""Telegram-style flood limits (sliding windows per bot) and fault injection."""

from __future__ import annotations

import itertools
import math
import random
from collections import deque
from dataclasses import asdict, dataclass, field
from http import HTTPStatus
from typing import Any

from .errors import ApiError, too_many_requests


@dataclass(slots=True)
class Limits:
    """None/0 = off. Windows: global 1 s per bot, group 60 s per chat, private 1 s per chat."""

    global_per_s: int | None = None
    group_per_min: int | None = None
    private_per_s: int | None = None


class RateLimiter:
    def __init__(self) -> None:
        self.limits = Limits()
        self._global: dict[int, deque[float]] = {}
        self._chats: dict[tuple[int, int], deque[float]] = {}

    @property
    def active(self) -> bool:
        lim = self.limits
        return bool(lim.global_per_s or lim.group_per_min or lim.private_per_s)

    def configure(self, **values: int | None) -> Limits:
        for name, value in values.items():
            setattr(self.limits, name, value or None)
        return self.limits

    def reset(self) -> None:
        self.limits = Limits()
        self._global.clear()
        self._chats.clear()

    def _chat_limit(self, is_private: bool) -> tuple[int | None, float]:
        if is_private:
            return self.limits.private_per_s, 1.0
        return self.limits.group_per_min, 60.0

    @staticmethod
    def _wait(q: deque[float], limit: int, window: float, now: float) -> float:
        """Seconds until q has room for one more call in the window (0 if it has now)."""
        while q and q[0] <= now - window:
            q.popleft()
        if len(q) < limit:
            return 0.0
        return q[len(q) - limit] + window - now

    def check(self, bot_id: int, chat_id: int, is_private: bool, now: float) -> int:
        """0 if the call may go ahead, else Telegram's retry_after (whole seconds, >= 1)."""
        wait = 0.0
        if self.limits.global_per_s:
            q = self._global.get(bot_id)
            if q is not None:
                wait = self._wait(q, self.limits.global_per_s, 1.0, now)
        limit, window = self._chat_limit(is_private)
        if limit:
            q = self._chats.get((bot_id, chat_id))
            if q is not None:
                wait = max(wait, self._wait(q, limit, window, now))
        return max(1, math.ceil(wait)) if wait > 0 else 0

    def record(self, bot_id: int, chat_id: int, is_private: bool, now: float) -> None:
        if self.limits.global_per_s:
            self._global.setdefault(bot_id, deque()).append(now)
        if self._chat_limit(is_private)[0]:
            self._chats.setdefault((bot_id, chat_id), deque()).append(now)


FAULT_KINDS = ("timeout", "drop")


@dataclass(slots=True)
class Fault:
    id: int
    status: int | str  # an HTTP status, "timeout" or "drop"
    method: str | None = None  # lower-cased Bot API method name
    chat_id: str | None = None
    retry_after: int = 5
    probability: float = 1.0
    count: int | None = None
    description: str | None = None
    fired: int = 0

    def as_json(self) -> dict[str, Any]:
        return asdict(self)

    def error(self) -> ApiError:
        status = self.status
        assert isinstance(status, int)
        if status == 429:
            return too_many_requests(self.retry_after)
        if self.description:
            return ApiError(status, self.description)
        if status == 400:
            return ApiError(400, "Bad Request: sandbox injected fault")
        if status == 403:
            return ApiError(403, "Forbidden: bot was blocked by the user")
        if status == 500:
            return ApiError(500, "Internal Server Error")
        try:
            return ApiError(status, HTTPStatus(status).phrase)
        except ValueError:
            return ApiError(status, "Error")


@dataclass
class FaultInjector:
    seed: int | None = 0
    faults: list[Fault] = field(default_factory=list)
    rng: random.Random = field(init=False)
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))

    def __post_init__(self) -> None:
        self.rng = random.Random(self.seed)

    def reseed(self, seed: int | None) -> None:
        self.seed = seed
        self.rng = random.Random(seed)

    def add(self, **kwargs: Any) -> Fault:
        fault = Fault(id=next(self._ids), **kwargs)
        self.faults.append(fault)
        return fault

    def clear(self) -> None:
        self.faults.clear()

    def match(self, method: str, chat_id: str | None) -> Fault | None:
        for f in self.faults:
            if f.count is not None and f.fired >= f.count:
                continue
            if f.method is not None and f.method != method:
                continue
            if f.chat_id is not None and f.chat_id != chat_id:
                continue
            if f.probability < 1.0 and self.rng.random() >= f.probability:
                continue
            f.fired += 1
            return f
        return None
