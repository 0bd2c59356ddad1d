"""Fuzzing every handler that reads what people type: every command with any arguments, every
flow's typed step (an announcement, a task's details, an activity report's day, counts and
notes, a model, a rejection's reason, an answer to a question, a misinformation report and its
clarification), free text in private, and a group's replies to loa, mentions of loa and
«báo tin sai» replies — with unicode, huge, empty, HTML and control characters (cleaned as the
adapters clean them). Whatever is typed: no handler raises, and every reply is Vietnamese."""

from __future__ import annotations

import asyncio
import itertools
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlmodel import SQLModel, delete, select

from bot.dispatch import Dispatcher
from bot.domain import (
    ButtonAnswer,
    ChatType,
    EditMessage,
    EventKind,
    InboundEvent,
    OutboundMessage,
    Platform,
    PlatformUser,
)
from bot.services.units import sync_units
from bot.storage.db import Database
from bot.storage.models import (
    ActivityReport,
    Announcement,
    Chat,
    Conversation,
    ExemplaryModel,
    FeedbackItem,
    Person,
    Role,
    Task,
    TaskAnswer,
    Unit,
)
from bot.text import clean_text
from content.units import load_units
from handlers import build_router
from handlers.typed import STEPS
from tests.chatworld import UNITS
from tests.handlers.fakes import FakePlatform, templates

STAFF, PARENT = PlatformUser("7", "Cán bộ <b>Hòa</b>"), PlatformUser("8", "Phụ huynh Lan")
GROUP = "-100"
VIETNAMESE = set("ăâđêôơưáàảãạấầẩẫậắằẳẵặéèẻẽẹếềểễệíìỉĩịóòỏõọốồổỗộớờởỡợúùủũụứừửữựýỳỷỹỵ")
_ids = itertools.count(1)

hostile_char = st.one_of(
    st.characters(),
    st.sampled_from(["\x00", "\x1b", "\r", "\x7f", "\x85", "\ud800", "\u202e", "\ufeff"]),
    st.sampled_from(["\n", "\t", "😀", "Đ", "ễ", "/", "@", " ", "<", ">", "&", "0", "9"]),
)
typed = st.one_of(
    st.text(hostile_char, max_size=60),
    st.sampled_from(
        [
            "",
            "   ",
            "25/11",
            "31/02/2026",
            "01/01/2099",
            "12",
            "-5",
            "100001",
            "Họp phụ huynh",
            "<b>đậm</b><script>alert(1)</script>",
            "&lt;&amp;&gt; </b>",
            "báo tin sai",
            "BAO TIN SAI <i>",
            "K7QM-3XWP-9TDA-HE4C",
            "a" * 5000,
            "ễ" * 4097,
            "\u0000\u0001\u001f",
            "Đã hiểu\n" * 300,
        ]
    ),
)


@dataclass(frozen=True)
class Ids:
    question: int
    report: int
    announcement: int
    answer: int
    activity: int
    model: int


def flow_states(ids: Ids) -> list[tuple[str, dict[str, Any]]]:
    """A state of every flow's typed step, pointing at the rows seeded for it."""
    return [
        ("announce", {"step": "text"}),
        ("announce", {"step": "time", "announcement": ids.announcement, "draft_message": "1"}),
        ("task_result", {"answer": ids.answer}),
        ("activity", {"step": "date", "report": ids.activity}),
        ("activity", {"step": "count", "index": 1, "report": ids.activity}),
        ("activity", {"step": "notes", "report": ids.activity}),
        ("activity", {"step": "buttons", "report": ids.activity}),
        ("model", {"step": "title"}),
        ("model", {"step": "description", "title": "Góc sách"}),
        ("model_reason", {"model": ids.model}),
        ("question_answer", {"item": ids.question}),
        ("question_handled", {"item": ids.question}),
        ("misinfo_report", {}),
        ("misinfo_clarify", {"item": ids.report}),
        ("misinfo_handled", {"item": ids.report}),
    ]


@dataclass
class Rig:
    db: Database
    dispatcher: Dispatcher
    platform: FakePlatform
    ids: Ids
    staff_id: int

    @classmethod
    async def start(cls, folder: Path) -> Rig:
        db = Database(f"sqlite+aiosqlite:///{folder / 'fuzz.db'}")
        async with db.engine.begin() as conn:
            await conn.run_sync(SQLModel.metadata.create_all)
        await sync_units(db, load_units(UNITS))
        async with db.session() as s:
            units = {u.code: u.id or 0 for u in (await s.exec(select(Unit))).all()}
            staff = Person(platform="telegram", platform_user_id=STAFF.id, display_name="Hòa")
            parent = Person(platform="telegram", platform_user_id=PARENT.id, display_name="Lan")
            s.add_all([staff, parent])
            await s.flush()
            assert staff.id is not None and parent.id is not None
            s.add_all(
                [
                    Role(person_id=staff.id, role="official", unit_id=units["phuong-a"]),
                    Role(person_id=staff.id, role="teacher", unit_id=units["th-a"]),
                    Role(person_id=parent.id, role="parent", unit_id=units["th-a-1a"]),
                    Chat(
                        platform="telegram", platform_chat_id=GROUP, type="group", title="1A",
                        unit_id=units["th-a-1a"], audience="parents",
                    ),
                ]
            )  # fmt: skip
            question = FeedbackItem(kind="question", person_id=parent.id, unit_id=units["th-a"])
            report = FeedbackItem(
                kind="misinformation", person_id=parent.id, unit_id=units["th-a-1a"]
            )
            announcement = Announcement(author_id=staff.id, text="Họp", unit_ids=[units["th-a"]])
            task = Task(
                key="k", plan="p", title="Xây dựng kế hoạch", owner_unit_id=units["th-a"],
                deadline=datetime(2026, 12, 31, tzinfo=UTC),
            )  # fmt: skip
            activity = ActivityReport(
                unit_id=units["th-a"], person_id=staff.id, held_on=date(2026, 11, 1)
            )
            model = ExemplaryModel(
                unit_id=units["th-a"], person_id=parent.id, title="Góc sách", status="pending"
            )
            s.add_all([question, report, announcement, task, activity, model])
            await s.flush()
            assert task.id is not None
            answer = TaskAnswer(task_id=task.id, person_id=staff.id, status="done")
            s.add(answer)
            await s.commit()
            rows = (question, report, announcement, answer, activity, model)
            ids = Ids(*(row.id or 0 for row in rows))
        platform = FakePlatform()
        dispatcher = Dispatcher(build_router(), db=db, templates=templates())
        return cls(db, dispatcher, platform, ids, staff.id)

    async def say(self, event: InboundEvent, flow: tuple[str, dict[str, Any]] | None) -> None:
        async with self.db.session() as s:
            await s.exec(delete(Conversation))
            if flow is not None:
                s.add(Conversation(person_id=self.staff_id, flow=flow[0], state=flow[1]))
            await s.commit()
        replies = await self.dispatcher.dispatch(event, self.platform)  # raises: a crash
        texts = [
            r.text
            for r in replies
            if isinstance(r, OutboundMessage | EditMessage | ButtonAnswer) and r.text is not None
        ]
        if event.chat_type is ChatType.PRIVATE:
            assert texts, f"no answer to {event.text!r}"
        for text in texts:
            assert VIETNAMESE & set(text.lower()), f"not Vietnamese: {text[:200]!r}"
            assert "trục trặc" not in text  # the error template: a handler failed


def commands() -> list[str]:
    return sorted(build_router()._commands)


def event(
    text: str,
    *,
    user: PlatformUser = STAFF,
    private: bool = True,
    command: str | None = None,
    args: str = "",
    **extra: Any,
) -> InboundEvent:
    number = str(next(_ids))
    return InboundEvent(
        Platform.TELEGRAM, EventKind.MESSAGE,
        chat_id=user.id if private else GROUP,
        chat_type=ChatType.PRIVATE if private else ChatType.GROUP,
        user=user, text=text, command=command, args=args, message_id=number, **extra,
    )  # fmt: skip


def group_event(
    text: str, quoted: str, how: str
) -> tuple[InboundEvent, tuple[str, dict[str, Any]] | None]:
    """A parent in the group: replying to loa's post, to someone's message, or naming loa."""
    return (
        event(
            text,
            user=PARENT,
            private=False,
            reply_to_message_id=None if how == "mention" else "1",
            reply_to_bot=how == "reply_to_bot",
            reply_to_text=quoted if how == "reply" else None,
            mentions_bot=how == "mention",
        ),
        None,
    )


def cases(ids: Ids) -> st.SearchStrategy[tuple[InboundEvent, tuple[str, dict[str, Any]] | None]]:
    text = typed.map(clean_text)
    as_command = st.builds(
        lambda name, args, private: (
            event(f"/{name} {args}", command=name, args=args.strip(), private=private),
            None,
        ),
        st.sampled_from(commands()),
        text,
        st.booleans(),
    )
    in_flow = st.builds(lambda t, flow: (event(t), flow), text, st.sampled_from(flow_states(ids)))
    free = st.builds(
        lambda t, user: (event(t, user=user), None), text, st.sampled_from([STAFF, PARENT])
    )
    in_group = st.builds(
        group_event,
        st.one_of(text, text.map(lambda t: f"báo tin sai {t}")),
        text,
        st.sampled_from(["reply_to_bot", "reply", "mention"]),
    )
    return st.one_of(as_command, in_flow, free, in_group)


def test_every_flow_is_fuzzed() -> None:
    ids = Ids(1, 2, 3, 4, 5, 6)
    assert {flow for flow, _ in flow_states(ids)} == set(STEPS)


def test_nothing_typed_breaks_a_handler(tmp_path: Path) -> None:
    loop = asyncio.new_event_loop()
    rig = loop.run_until_complete(Rig.start(tmp_path))
    try:

        @settings(
            max_examples=300,
            derandomize=True,
            deadline=None,
            database=None,
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
        )
        @given(cases(rig.ids))
        def run(case: tuple[InboundEvent, tuple[str, dict[str, Any]] | None]) -> None:
            loop.run_until_complete(rig.say(*case))

        run()
    finally:
        loop.run_until_complete(rig.db.dispose())
        loop.close()
