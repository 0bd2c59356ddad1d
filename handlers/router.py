"""A small router in the aiogram spirit: commands, typed phrases, button-data prefixes and event
kinds map to async handlers; `Dispatcher` binds it to the database and templates for the inbox.

Matching rules:
- commands ignore case, in any chat; an unknown command gets the `unknown_command` handler in a
  private chat and is ignored in a group;
- phrases ("trợ giúp") are matched ignoring diacritics, case and surrounding punctuation, in
  private chats only: in a group, what people write to each other is not for loa;
- other messages go to an `event(EventKind.MESSAGE)` handler if one is registered (it decides);
- button data "<prefix>:<args>" goes to the prefix's handler; an unmatched tap is still answered
  so the person's spinner stops;
- `first` handlers run before the matched one, for every event (the privacy notice on a first
  private contact).
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TypeVar

from bot.domain import Button, ChatType, EventKind, InboundEvent, OutboundMessage
from bot.platforms.base import PlatformAdapter, SendError
from bot.storage.db import Database
from bot.text import fold_phrase
from content.templates import Templates

log = logging.getLogger(__name__)

Handler = Callable[["Context"], Awaitable[None]]
K = TypeVar("K")


@dataclass(slots=True)
class Context:
    """One event being handled, with what a handler needs to answer it.

    `reply`, `edit` and `answer_button` render at once (a template error fails the handler)
    but are sent when the handler returns: after its transactions, so no database lock is held
    across a network call (SQLite has one writer), and not at all if the handler fails (the
    inbox runs it again, whole)."""

    event: InboundEvent
    db: Database
    adapter: PlatformAdapter
    templates: Templates
    args: str = ""  # the command's arguments, or the button data after "<prefix>:"
    _outgoing: list[Callable[[], Awaitable[None]]] = field(default_factory=list)

    @property
    def is_private(self) -> bool:
        return self.event.chat_type is ChatType.PRIVATE

    async def reply(
        self, template_name: str, /, *, buttons: tuple[Button, ...] = (), **values: object
    ) -> None:
        """Send the rendered template to the event's chat (as a reply to it in a group)."""
        if self.event.chat_id is None:
            raise ValueError(f"a {self.event.kind} event has no chat to reply to")
        in_group = self.event.chat_type is ChatType.GROUP and self.event.kind is EventKind.MESSAGE
        message = OutboundMessage(
            chat_id=self.event.chat_id,
            text=self.templates.render(template_name, **values),
            buttons=buttons,
            reply_to_message_id=self.event.message_id if in_group else None,
        )
        self._later(lambda: self.adapter.send(message))

    async def edit(
        self, template_name: str, /, *, buttons: tuple[Button, ...] = (), **values: object
    ) -> None:
        """Replace the message whose button was tapped (its old buttons go, `buttons` come);
        where a platform cannot edit, send the text as a new message."""
        text = self.templates.render(template_name, **values)
        chat, message = self.event.chat_id, self.event.message_id
        if chat is None:
            raise ValueError(f"a {self.event.kind} event has no chat to answer in")
        if message is None or not self.adapter.capabilities.edit:
            self._later(lambda: self.adapter.send(OutboundMessage(chat, text, buttons)))
        else:
            self._later(lambda: self.adapter.edit_text(chat, message, text, buttons))

    async def answer_button(self, template_name: str | None = None, /, **values: object) -> None:
        """Answer the tap with a short note only the tapper sees (or silently, without a
        template). Platforms without callbacks (numbered replies) get a reply instead.
        Best effort: a late or refused answer is logged, not raised."""
        if self.event.callback_id is None:
            if template_name is not None and self.event.chat_id is not None:
                note = self.templates.render(template_name, **values)
                chat_id = self.event.chat_id
                self._later(lambda: self.adapter.send(OutboundMessage(chat_id, note)))
            return
        text = (
            None if template_name is None else self.templates.render_plain(template_name, **values)
        )
        callback_id = self.event.callback_id
        self._later(lambda: self._answer(callback_id, text))

    async def flush(self) -> None:
        """Send what the handler said, in order."""
        outgoing, self._outgoing = self._outgoing, []
        for send in outgoing:
            await send()

    def _later(self, call: Callable[[], Awaitable[object]]) -> None:
        async def run() -> None:
            await call()

        self._outgoing.append(run)

    async def _answer(self, callback_id: str, text: str | None) -> None:
        try:
            await self.adapter.answer_button(callback_id, text)
        except SendError as e:
            log.warning(
                "could not answer a %s button tap: %s", self.event.platform, type(e).__name__
            )


@dataclass(frozen=True, slots=True)
class Match:
    handler: Handler
    args: str = ""


class Router:
    def __init__(self) -> None:
        self._commands: dict[str, Handler] = {}
        self._phrases: dict[str, Handler] = {}
        self._buttons: dict[str, Handler] = {}
        self._kinds: dict[EventKind, Handler] = {}
        self._unknown_command: Handler | None = None
        self._first: list[Handler] = []

    def first(self, handler: Handler) -> Handler:
        """Run `handler` before whatever handles an event, for every event."""
        self._first.append(handler)
        return handler

    def command(self, *names: str) -> Callable[[Handler], Handler]:
        return self._registrar(self._commands, [n.lower().lstrip("/") for n in names])

    def phrase(self, *phrases: str) -> Callable[[Handler], Handler]:
        return self._registrar(self._phrases, [fold_phrase(p) for p in phrases])

    def button(self, prefix: str) -> Callable[[Handler], Handler]:
        if ":" in prefix:
            raise ValueError(f"button prefix {prefix!r} must not contain ':'")
        return self._registrar(self._buttons, [prefix])

    def event(self, kind: EventKind) -> Callable[[Handler], Handler]:
        return self._registrar(self._kinds, [kind])

    def unknown_command(self, handler: Handler) -> Handler:
        if self._unknown_command is not None:
            raise ValueError("unknown_command is already handled")
        self._unknown_command = handler
        return handler

    def include(self, other: Router) -> None:
        """Take over another router's handlers (one router per feature module)."""
        for name, handler in other._commands.items():
            self.command(name)(handler)
        for phrase, handler in other._phrases.items():
            self.phrase(phrase)(handler)
        for prefix, handler in other._buttons.items():
            self.button(prefix)(handler)
        for kind, handler in other._kinds.items():
            self.event(kind)(handler)
        if other._unknown_command is not None:
            self.unknown_command(other._unknown_command)
        self._first.extend(other._first)

    @property
    def firsts(self) -> tuple[Handler, ...]:
        return tuple(self._first)

    def match(self, event: InboundEvent) -> Match | None:
        """The handler for `event`, or None when loa has nothing to do with it."""
        if event.kind is EventKind.MESSAGE:
            private = event.chat_type is ChatType.PRIVATE
            if event.command is not None:
                handler = self._commands.get(event.command.lower())
                if handler is None and private:
                    handler = self._unknown_command
                return Match(handler, event.args) if handler else None
            if private and event.text and (handler := self._phrases.get(fold_phrase(event.text))):
                return Match(handler)
        if event.kind is EventKind.BUTTON and event.button_data:
            prefix, _, args = event.button_data.partition(":")
            handler = self._buttons.get(prefix)
            return Match(handler, args) if handler else None
        handler = self._kinds.get(event.kind)
        return Match(handler) if handler else None

    @staticmethod
    def _registrar(table: dict[K, Handler], keys: list[K]) -> Callable[[Handler], Handler]:
        def register(handler: Handler) -> Handler:
            taken = [k for k in keys if k in table]
            if taken:
                raise ValueError(f"already handled: {taken}")
            table.update(dict.fromkeys(keys, handler))
            return handler

        return register


class Dispatcher:
    """A Router bound to the database and templates: the inbox's `EventRouter`."""

    def __init__(self, router: Router, *, db: Database, templates: Templates) -> None:
        self.router = router
        self.db = db
        self.templates = templates

    async def dispatch(self, event: InboundEvent, adapter: PlatformAdapter) -> None:
        for handler in self.router.firsts:
            await self._run(handler, self._context(event, adapter))
        match = self.router.match(event)
        if match is None:
            if event.kind is EventKind.BUTTON:
                await self._run(Context.answer_button, self._context(event, adapter))
            return
        await self._run(match.handler, self._context(event, adapter, match.args))

    async def give_up(self, event: InboundEvent, adapter: PlatformAdapter) -> None:
        """The event failed for good: say so politely, where the person is waiting for us."""
        ctx = self._context(event, adapter)
        if event.kind is EventKind.BUTTON:
            await ctx.answer_button("error")
        elif event.kind is EventKind.MESSAGE and self.router.match(event) is not None:
            await ctx.reply("error")
        await ctx.flush()

    @staticmethod
    async def _run(handler: Handler, ctx: Context) -> None:
        await handler(ctx)
        await ctx.flush()

    def _context(self, event: InboundEvent, adapter: PlatformAdapter, args: str = "") -> Context:
        return Context(event, self.db, adapter, self.templates, args)
