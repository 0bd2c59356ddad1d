"""A small router in the aiogram spirit: commands, typed phrases, button-data prefixes and event
kinds map to async handlers, each registered with what it needs (`Needs`), which the dispatcher
checks before the handler runs.

Matching rules:
- commands ignore case and diacritics (`/tôi` is `/toi`), in any chat; an unknown command gets
  the `unknown_command` handler in a private chat and is ignored in a group;
- phrases ("trợ giúp") are matched ignoring diacritics, case and surrounding punctuation, in
  private chats only: in a group, what people write to each other is not for loa;
- other messages go to an `event(EventKind.MESSAGE)` handler if one is registered (it decides);
- button data "<prefix>:<args>" goes to the prefix's handler; an unmatched tap is still answered
  so the person's spinner stops;
- `first` handlers run before the matched one, for every event (the privacy notice on a first
  private contact).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TypeVar

from bot.dispatch.context import Context
from bot.domain import ChatType, EventKind, InboundEvent
from bot.services.permissions import Action
from bot.text import fold, fold_phrase

Handler = Callable[[Context], Awaitable[None]]
K = TypeVar("K")


@dataclass(frozen=True, slots=True)
class Needs:
    """What a handler needs before it runs; the dispatcher refuses politely otherwise.

    `private`: only in a private chat. `person`: someone loa has met (`ctx.person`).
    `action`: a person allowed that action somewhere (`ctx.person`, `ctx.scope`).
    `refusal`: the template that says no (given reason="forbidden"), else `not_allowed`."""

    private: bool = False
    person: bool = False
    action: Action | None = None
    refusal: str = "not_allowed"


@dataclass(frozen=True, slots=True)
class Route:
    handler: Handler
    needs: Needs = Needs()
    name: str = ""  # the command or prefix it was registered under, for refusals


@dataclass(frozen=True, slots=True)
class Match:
    route: Route
    args: str = ""


def fold_command(name: str) -> str:
    """A command's name as it is matched: `/Tôi` and `/toi`, `/xóa_dữ_liệu` and `/xoadulieu`."""
    return "".join(c for c in fold(name) if c.isalnum())


class Router:
    def __init__(self) -> None:
        self._commands: dict[str, Route] = {}
        self._phrases: dict[str, Route] = {}
        self._buttons: dict[str, Route] = {}
        self._kinds: dict[EventKind, Route] = {}
        self._unknown_command: Route | None = None
        self._first: list[Handler] = []

    def first(self, handler: Handler) -> Handler:
        """Run `handler` before whatever handles an event, for every event."""
        self._first.append(handler)
        return handler

    def command(
        self,
        *names: str,
        private: bool = False,
        person: bool = False,
        action: Action | None = None,
        refusal: str = "not_allowed",
    ) -> Callable[[Handler], Handler]:
        keys = [fold_command(n) for n in names]
        needs = Needs(private, person, action, refusal)
        return self._registrar(self._commands, keys, needs, keys[0])

    def phrase(
        self, *phrases: str, person: bool = False, action: Action | None = None
    ) -> Callable[[Handler], Handler]:
        keys = [fold_phrase(p) for p in phrases]
        return self._registrar(self._phrases, keys, Needs(True, person, action), "")

    def button(
        self,
        prefix: str,
        *,
        private: bool = False,
        person: bool = False,
        action: Action | None = None,
        refusal: str = "not_allowed",
    ) -> Callable[[Handler], Handler]:
        if ":" in prefix:
            raise ValueError(f"button prefix {prefix!r} must not contain ':'")
        needs = Needs(private, person, action, refusal)
        return self._registrar(self._buttons, [prefix], needs, prefix)

    def event(self, kind: EventKind) -> Callable[[Handler], Handler]:
        return self._registrar(self._kinds, [kind], Needs(), str(kind))

    def unknown_command(self, handler: Handler) -> Handler:
        if self._unknown_command is not None:
            raise ValueError("unknown_command is already handled")
        self._unknown_command = Route(handler)
        return handler

    def include(self, other: Router) -> None:
        """Take over another router's routes (one router per feature module)."""
        _take(self._commands, other._commands)
        _take(self._phrases, other._phrases)
        _take(self._buttons, other._buttons)
        _take(self._kinds, other._kinds)
        if other._unknown_command is not None:
            self.unknown_command(other._unknown_command.handler)
        self._first.extend(other._first)

    @property
    def firsts(self) -> tuple[Handler, ...]:
        return tuple(self._first)

    def match(self, event: InboundEvent) -> Match | None:
        """The route for `event`, or None when loa has nothing to do with it."""
        if event.kind is EventKind.MESSAGE:
            private = event.chat_type is ChatType.PRIVATE
            if event.command is not None:
                route = self._commands.get(fold_command(event.command))
                if route is None and private:
                    route = self._unknown_command
                return Match(route, event.args) if route else None
            if private and event.text and (route := self._phrases.get(fold_phrase(event.text))):
                return Match(route)
        if event.kind is EventKind.BUTTON and event.button_data:
            prefix, _, args = event.button_data.partition(":")
            route = self._buttons.get(prefix)
            return Match(route, args) if route else None
        route = self._kinds.get(event.kind)
        return Match(route) if route else None

    @staticmethod
    def _registrar(
        table: dict[K, Route], keys: list[K], needs: Needs, name: str
    ) -> Callable[[Handler], Handler]:
        def register(handler: Handler) -> Handler:
            _take(table, dict.fromkeys(keys, Route(handler, needs, name)))
            return handler

        return register


def _take(table: dict[K, Route], routes: dict[K, Route]) -> None:
    taken = [k for k in routes if k in table]
    if taken:
        raise ValueError(f"already handled: {taken}")
    table.update(routes)
