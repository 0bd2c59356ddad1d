"""The router's contract as a feature module sees it: declared needs, replies returned, not sent."""

from __future__ import annotations

import ast
from dataclasses import replace
from pathlib import Path

import pytest

from bot.dispatch import Context, Dispatcher, Router
from bot.domain import ButtonAnswer, ChatType, EventKind, InboundEvent, OutboundMessage, Platform
from bot.domain import PlatformUser as User
from bot.services.permissions import Action
from bot.storage.db import Database
from handlers import build_router
from tests.handlers.fakes import FakePlatform, templates

ROOT = Path(__file__).parents[2]
PRIVATE = InboundEvent(
    Platform.TELEGRAM,
    EventKind.MESSAGE,
    chat_id="7",
    chat_type=ChatType.PRIVATE,
    user=User("7", "Lan"),
)
GROUP = replace(PRIVATE, chat_id="-100", chat_type=ChatType.GROUP, message_id="3")


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


@pytest.mark.parametrize(
    ("typed", "handler"),
    [
        ("toi", "me"),
        ("tôi", "me"),
        ("TÔI", "me"),
        ("xoadulieu", "ask_to_erase"),
        ("xóadữliệu", "ask_to_erase"),
        ("Xoá_Dữ_Liệu", "ask_to_erase"),
    ],
)
def test_commands_are_matched_without_diacritics_or_case(typed: str, handler: str) -> None:
    match = build_router().match(replace(PRIVATE, command=typed))
    assert match is not None and match.route.handler.__name__ == handler


async def test_give_up_tells_the_person(db: Database) -> None:
    dispatcher = Dispatcher(build_router(), db=db, templates=templates())
    tap = InboundEvent(Platform.TELEGRAM, EventKind.BUTTON, button_data="ack:1", callback_id="9")

    assert await dispatcher.give_up(tap, FakePlatform()) == [
        ButtonAnswer("9", templates().render_plain("error"))
    ]
    # /start and free text in private both have a handler waiting to answer
    for event in (replace(PRIVATE, command="start"), replace(PRIVATE, text="chào")):
        replies = await dispatcher.give_up(event, FakePlatform())
        assert replies == [OutboundMessage("7", templates().render("error"))]


async def test_handlers_return_what_they_say_and_send_nothing(db: Database) -> None:
    """What a handler says leaves after it returns (the inbox sends it), never mid-handler and
    never from a failed run."""
    platform = FakePlatform()
    router = Router()

    @router.command("ok")
    async def ok(ctx: Context) -> None:
        ctx.reply("help", roles=[])

    @router.command("boom")
    async def boom(ctx: Context) -> None:
        ctx.reply("help", roles=[])
        raise RuntimeError("the database went away")

    dispatcher = Dispatcher(router, db=db, templates=templates())
    replies = await dispatcher.dispatch(replace(PRIVATE, command="ok"), platform)
    assert replies == [OutboundMessage("7", templates().render("help", roles=[]))]
    with pytest.raises(RuntimeError):
        await dispatcher.dispatch(replace(PRIVATE, command="boom"), platform)
    assert platform.sent == [] and platform.edits == []


async def test_declared_needs_are_checked_before_the_handler(db: Database) -> None:
    ran: list[str] = []
    router = Router()

    @router.command("secret", private=True)
    async def secret(ctx: Context) -> None:
        ran.append("secret")

    @router.command("announce", action=Action.ANNOUNCE)
    async def announce(ctx: Context) -> None:
        ran.append("announce")

    dispatcher = Dispatcher(router, db=db, templates=templates())
    in_group = await dispatcher.dispatch(replace(GROUP, command="secret"), FakePlatform())
    stranger = await dispatcher.dispatch(replace(PRIVATE, command="announce"), FakePlatform())

    assert ran == []
    assert [r.text for r in in_group if isinstance(r, OutboundMessage)] == [
        templates().render("private_only", command="secret")
    ]
    assert [r.text for r in stranger if isinstance(r, OutboundMessage)] == [
        templates().render("not_allowed")
    ]


def _python_files(folder: str) -> list[Path]:
    return sorted((ROOT / folder).rglob("*.py"))


def test_no_handler_talks_to_the_platform_directly() -> None:
    """Every message a handler causes goes through Context, so it leaves after the handler."""
    offenders = [
        f"{path.name}:{node.lineno}"
        for path in _python_files("handlers")
        for node in ast.walk(ast.parse(path.read_text()))
        if isinstance(node, ast.Attribute) and node.attr in ("adapter", "_adapter")
    ]
    assert offenders == []


def test_bot_imports_handlers_only_in_the_composition_root() -> None:
    offenders = []
    for path in _python_files("bot"):
        for node in ast.walk(ast.parse(path.read_text())):
            names = (
                [node.module or ""]
                if isinstance(node, ast.ImportFrom)
                else [a.name for a in node.names]
                if isinstance(node, ast.Import)
                else []
            )
            if any(n == "handlers" or n.startswith("handlers.") for n in names):
                offenders.append(str(path.relative_to(ROOT)))
    assert sorted(set(offenders)) == ["bot/app.py"]
