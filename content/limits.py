"""Resource limits for templates officials write: a template is data, so it must not hang loa or
fill its memory. Every limit breaks off the render with TemplateLimit (a SecurityError, so every
caller's "not allowed in a template" handling reports it, at the template's file:line)."""

from __future__ import annotations

import time
from collections.abc import Generator, Iterable, Iterator
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any, Final

from jinja2 import nodes
from jinja2.environment import Template
from jinja2.exceptions import SecurityError
from jinja2.sandbox import ImmutableSandboxedEnvironment
from jinja2.utils import Namespace

_BOUNDED: Final = "_loa_bounded"  # the filter every {% for %} iterates through


class TemplateLimit(SecurityError):
    """A render went past one of the Limits."""


@dataclass(frozen=True, slots=True)
class Limits:
    """Far above what any message needs (Telegram takes 4,096 characters)."""

    range_size: int = 10_000  # items of one range()
    iterations: int = 10_000  # loop turns in one render, all loops together
    size: int = 100_000  # characters of any output, string, or items of a list built in it
    seconds: float = 1.0  # wall time of one render
    call_depth: int = 50  # macros calling macros


@dataclass(slots=True)
class _Render:
    limits: Limits
    deadline: float
    iterations: int = 0
    depth: int = 0

    def tick(self) -> None:
        if time.monotonic() > self.deadline:
            raise TemplateLimit(f"rendering took more than {self.limits.seconds:g} s")


_current: ContextVar[_Render | None] = ContextVar("template_render", default=None)


class BoundedTemplate(Template):
    def render(self, *args: Any, **kwargs: Any) -> str:
        limits: Limits = self.environment.limits  # type: ignore[attr-defined]
        token = _current.set(_Render(limits, time.monotonic() + limits.seconds))
        try:
            return super().render(*args, **kwargs)
        except RecursionError:
            raise TemplateLimit("templates include each other without end") from None
        finally:
            _current.reset(token)


class BoundedEnvironment(ImmutableSandboxedEnvironment):
    """The sandbox (no private attributes, no mutating lists or dicts) within `limits`."""

    template_class = BoundedTemplate
    intercepted_binops = frozenset({"*", "**"})

    def __init__(self, *args: Any, limits: Limits | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.limits = limits or Limits()
        self.globals["range"] = self._range
        self.globals["namespace"] = _BoundedNamespace
        self.filters[_BOUNDED] = _bounded

    def _parse(self, source: str, name: str | None, filename: str | None) -> nodes.Template:
        tree = super()._parse(source, name, filename)
        for loop in tree.find_all(nodes.For):
            loop.iter = nodes.Filter(loop.iter, _BOUNDED, [], [], None, None, lineno=loop.lineno)
        return tree

    def _range(self, *args: int) -> range:
        numbers = range(*args)
        if len(numbers) > self.limits.range_size:
            raise TemplateLimit(f"range() of more than {self.limits.range_size} numbers")
        return numbers

    def concat(self, parts: Iterable[str]) -> str:
        """Every output (the message, a macro's, a captured block's) is joined here."""
        render, size, kept = _current.get(), 0, []
        for part in parts:
            size += len(part)
            try:
                if size > self.limits.size:
                    raise TemplateLimit(f"output of more than {self.limits.size} characters")
                if render is not None:
                    render.tick()
            except TemplateLimit as e:
                if isinstance(parts, Generator):  # raised where the template is, for its line
                    parts.throw(e)
                raise
            kept.append(part)
        return "".join(kept)

    def call(__self, __context: Any, __obj: Any, *args: Any, **kwargs: Any) -> Any:
        render = _current.get()
        if render is None:
            return _sized(super().call(__context, __obj, *args, **kwargs), __self.limits)
        render.tick()
        render.depth += 1
        try:
            if render.depth > render.limits.call_depth:
                raise TemplateLimit(f"calls nested more than {render.limits.call_depth} deep")
            return _sized(super().call(__context, __obj, *args, **kwargs), __self.limits)
        finally:
            render.depth -= 1

    def call_binop(self, context: Any, operator: str, left: Any, right: Any) -> Any:
        if _result_size(operator, left, right) > self.limits.size:
            raise TemplateLimit(f"a value of more than {self.limits.size} items (or bits)")
        return super().call_binop(context, operator, left, right)


class _BoundedNamespace(Namespace):
    """namespace(), whose values cannot grow past the size limit ({% set ns.s = ns.s ~ ns.s %})."""

    def __setitem__(self, name: str, value: Any) -> None:
        render = _current.get()
        _sized(value, render.limits if render else Limits())
        super().__setitem__(name, value)


def _bounded(items: Any) -> Iterator[Any]:
    """What a {% for %} iterates: counts the turns of the render and watches its clock."""
    render = _current.get()
    if render is None:
        yield from items
        return
    for item in items:
        render.iterations += 1
        if render.iterations > render.limits.iterations:
            raise TemplateLimit(f"loops ran more than {render.limits.iterations} times")
        render.tick()
        yield item


def _result_size(operator: str, left: Any, right: Any) -> int:
    """Items of `seq * n`, or bits of `a ** b`, before computing it; 0 for anything else."""
    if operator == "**":
        if isinstance(left, int) and isinstance(right, int) and abs(left) > 1:
            return right * left.bit_length()
        return 0
    for seq, times in ((left, right), (right, left)):
        if isinstance(seq, str | list | tuple) and isinstance(times, int):
            return len(seq) * times
    return 0


def _sized(value: Any, limits: Limits) -> Any:
    if isinstance(value, str | list | tuple | dict) and len(value) > limits.size:
        raise TemplateLimit(f"a value of more than {limits.size} items")
    return value
