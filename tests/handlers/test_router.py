"""The router's contract as a feature module sees it."""

from __future__ import annotations

from dataclasses import replace

import pytest

from bot.domain import ChatType, EventKind, InboundEvent, Platform
from bot.storage.db import Database
from handlers import Dispatcher, Router, build_router
from handlers.router import Context
from tests.handlers.fakes import FakePlatform, templates


async def _noop(ctx: Context) -> None: ...


def test_two_features_cannot_claim_the_same_command() -> None:
    a, b = Router(), Router()
    a.command("start")(_noop)
    b.command("START")(_noop)
    root = Router()
    root.include(a)
    with pytest.raises(ValueError, match="already handled"):
        root.include(b)


def test_button_data_prefix_and_args() -> None:
    router = build_router()
    event = InboundEvent(Platform.TELEGRAM, EventKind.BUTTON, button_data="ack:42", callback_id="1")
    match = router.match(event)
    assert match is not None and match.args == "42"


async def test_give_up_tells_the_person(db: Database) -> None:
    platform = FakePlatform()
    dispatcher = Dispatcher(build_router(), db=db, templates=templates())
    tap = InboundEvent(Platform.TELEGRAM, EventKind.BUTTON, button_data="ack:1", callback_id="9")
    private = InboundEvent(
        Platform.TELEGRAM, EventKind.MESSAGE, chat_id="7", chat_type=ChatType.PRIVATE
    )
    command = replace(private, command="start")
    chatter = replace(private, text="chào")

    for event in (tap, command, chatter):
        await dispatcher.give_up(event, platform)

    assert platform.answers == [("9", templates().render_plain("error"))]
    # /start and free text in private both have a handler waiting to answer
    assert [m.text for m in platform.sent] == [templates().render("error")] * 2


def test_the_inbox_binds_a_router_only_with_templates(db: Database) -> None:
    from bot.inbox import Inbox

    with pytest.raises(TypeError, match="templates"):
        Inbox(db, {Platform.TELEGRAM: FakePlatform()}, build_router())


async def test_replies_leave_when_the_handler_is_done_and_not_if_it_fails(db: Database) -> None:
    """A reply sent mid-handler would hold the handler's database lock across a network call;
    a failing handler is run again, so what it said the first time must not have left."""
    platform = FakePlatform()
    seen_when_sent: list[int] = []
    steps: list[str] = []

    async def send_and_note(message: object) -> object:
        seen_when_sent.append(len(steps))
        return await FakePlatform.send(platform, message)  # type: ignore[arg-type]

    platform.send = send_and_note  # type: ignore[method-assign,assignment]
    router = Router()

    @router.command("ok")
    async def ok(ctx: Context) -> None:
        await ctx.reply("help", roles=[])
        steps.append("after the reply")

    @router.command("boom")
    async def boom(ctx: Context) -> None:
        await ctx.reply("help", roles=[])
        raise RuntimeError("the database went away")

    dispatcher = Dispatcher(router, db=db, templates=templates())
    private = InboundEvent(
        Platform.TELEGRAM, EventKind.MESSAGE, chat_id="7", chat_type=ChatType.PRIVATE
    )
    await dispatcher.dispatch(replace(private, command="ok"), platform)
    assert seen_when_sent == [1], "sent after the handler's last step"
    with pytest.raises(RuntimeError):
        await dispatcher.dispatch(replace(private, command="boom"), platform)
    assert len(platform.sent) == 1, "nothing from the failed run"
