"""What a handler is handed: the event, the person and scope its route declared, and the one way
to say something (`reply`, `edit`, `send_to`, `answer_button`).

What a handler says is rendered at once (a template error fails the handler) and collected as
`Reply` values; the inbox sends them after the handler returns, outside any transaction, and
never from a failed run. A send that fails is retried as a send, not by running the handler
again."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from bot.domain import (
    Button,
    ButtonAnswer,
    ChatType,
    EditMessage,
    EventKind,
    InboundEvent,
    OutboundMessage,
    Platform,
    Reply,
)
from bot.platforms.base import Capabilities, NotesContact, PlatformAdapter, SendError
from bot.platforms.capabilities import CAPABILITIES
from bot.services.people import find_person
from bot.services.permissions import Action, scope
from bot.storage.db import Database
from bot.storage.models import Person
from content.templates import Templates

log = logging.getLogger(__name__)


@dataclass(slots=True)
class Context:
    event: InboundEvent
    db: Database
    templates: Templates
    _adapter: PlatformAdapter  # for questions to the platform; sends go through `replies`
    args: str = ""  # the command's arguments, or the button data after "<prefix>:"
    person: Person | None = None  # set when the route declared `person` or an `action`
    scope: frozenset[int] = frozenset()  # the units where the declared action is allowed
    replies: list[Reply] = field(default_factory=list)
    web_url: str = ""  # the service's own web address (the dashboard's sign-in links)

    @property
    def is_private(self) -> bool:
        return self.event.chat_type is ChatType.PRIVATE

    @property
    def capabilities(self) -> Capabilities:
        return self._adapter.capabilities

    def start_link(self, payload: str) -> str | None:
        """The platform's link that opens a private chat with loa carrying `payload`."""
        return self._adapter.start_link(payload)

    async def count_members(self, platform_chat_id: str) -> int | None:
        """People in a group, loa left out; None if the platform cannot tell now."""
        if not self.capabilities.member_count:
            return None
        try:
            return await self._adapter.member_count(platform_chat_id)
        except SendError as e:
            log.warning(
                "member count of a %s group failed: %s", self.event.platform, type(e).__name__
            )
            return None

    async def note_contact(self) -> None:
        """Tell an adapter whose rules depend on when people last wrote (Zalo OA) of this
        event."""
        if isinstance(self._adapter, NotesContact):
            await self._adapter.note_contact(self.event)

    async def authorize(self, action: Action | None = None) -> bool:
        """Find the person writing (`ctx.person`) and, for an action, where they may do it
        (`ctx.scope`); False when loa does not know them or the action is allowed nowhere.
        The dispatcher calls it for a route's declared needs; a flow's next step calls it too."""
        async with self.db.read_session() as session:
            person = await find_person(session, self.event.platform, self.event.user)
            allowed = (
                await scope(session, person.id, action)
                if person is not None and action is not None
                else set()
            )
        self.person, self.scope = person, frozenset(allowed)
        return person is not None and (action is None or bool(allowed))

    @property
    def person_id(self) -> int:
        """The declared person's id (a route without `person` or `action` has none)."""
        if self.person is None or self.person.id is None:
            raise LookupError("this route did not declare that it needs a person")
        return self.person.id

    def render(self, template_name: str, /, **values: object) -> str:
        return self._render_on(self.capabilities, template_name, values)

    def _render_on(self, on: Capabilities, template_name: str, values: dict[str, object]) -> str:
        """The template for a chat on the platform `on` describes: `numbered` tells it that
        buttons show as numbered replies there («Trả lời 1», not «Bấm»)."""
        values.setdefault("numbered", not on.inline_buttons)
        return self.templates.render(template_name, **values)

    def label(self, template_name: str, /, **values: object) -> str:
        """A button's label, as plain text (the adapter fits it to its platform's length)."""
        return self.templates.render_plain(template_name, **values)

    def reply(
        self, template_name: str, /, *, buttons: tuple[Button, ...] = (), **values: object
    ) -> None:
        """Send the rendered template to the event's chat (as a reply to it in a group)."""
        chat = self._chat()
        in_group = self.event.chat_type is ChatType.GROUP and self.event.kind is EventKind.MESSAGE
        self.replies.append(
            OutboundMessage(
                chat_id=chat,
                text=self.render(template_name, **values),
                buttons=buttons,
                reply_to_message_id=self.event.message_id if in_group else None,
            )
        )

    def send_to(
        self,
        chat_id: str,
        template_name: str,
        /,
        *,
        buttons: tuple[Button, ...] = (),
        reply_to: str | None = None,
        platform: Platform | str | None = None,
        **values: object,
    ) -> None:
        """Send the rendered template to another chat (an approver's, an author's), as a reply
        to `reply_to` there if given; on `platform` when the chat is on another one than the
        event's (a teacher on Telegram answering a parent on Zalo)."""
        to = None if platform is None else Platform(platform)
        if to == self.event.platform:
            to = None
        on = self.capabilities if to is None else CAPABILITIES[to]
        text = self._render_on(on, template_name, values)
        self.replies.append(OutboundMessage(chat_id, text, buttons, reply_to, to))

    def edit(
        self, template_name: str, /, *, buttons: tuple[Button, ...] = (), **values: object
    ) -> None:
        """Replace the message whose button was tapped (its old buttons go, `buttons` come);
        where a platform cannot edit, send the text as a new message."""
        text = self.render(template_name, **values)
        chat, message = self._chat(), self.event.message_id
        if message is None or not self.capabilities.edit:
            self.replies.append(OutboundMessage(chat, text, buttons))
        else:
            self.replies.append(EditMessage(chat, message, text, buttons))

    def edit_at(
        self,
        chat_id: str,
        message_id: str,
        template_name: str,
        /,
        *,
        buttons: tuple[Button, ...] = (),
        **values: object,
    ) -> None:
        """Replace another message loa sent (an author's «submitted» message, its buttons
        gone), on a platform that can edit; elsewhere nothing."""
        if self.capabilities.edit:
            text = self.render(template_name, **values)
            self.replies.append(EditMessage(chat_id, message_id, text, buttons))

    def answer_button(self, template_name: str | None = None, /, **values: object) -> None:
        """Answer the tap with a short note only the tapper sees (or silently, without a
        template). Platforms without callbacks (numbered replies) get a reply instead."""
        if self.event.callback_id is None:
            if template_name is not None and self.event.chat_id is not None:
                self.replies.append(
                    OutboundMessage(self.event.chat_id, self.render(template_name, **values))
                )
            return
        if any(isinstance(r, ButtonAnswer) for r in self.replies):
            return  # a tap is answered once: the first answer stands
        text = (
            None if template_name is None else self.templates.render_plain(template_name, **values)
        )
        self.replies.append(ButtonAnswer(self.event.callback_id, text))

    def _chat(self) -> str:
        if self.event.chat_id is None:
            raise ValueError(f"a {self.event.kind} event has no chat to answer in")
        return self.event.chat_id
