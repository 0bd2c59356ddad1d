"""Every cell of the permission table, allowed and refused, acted out in the sandbox.

The cast holds each role in school A's world: an official of the ward, a school administrator
of school A, a teacher and a parent of class 1A, a resident of residential group 1, and someone
with no role at all. Each scenario is done the way a person would do it — a command in private,
the bot added to a group — and checks what the person sees and what loa stored.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta

import pytest
from sqlmodel import col, func, select

from bot.config import DEFAULT_CONTENT_DIR
from bot.services import invites
from bot.services.permissions import PERMISSIONS, Action
from bot.services.trends import Feedback, alert_bursts
from bot.storage.models import (
    ActivityReport,
    Announcement,
    Chat,
    Delivery,
    ExemplaryModel,
    FeedbackItem,
    Invite,
    RoleName,
    Task,
    TaskAnswer,
    Unit,
    utcnow,
)
from content.templates import Templates
from tests.chatworld import World

NOT_ALLOWED = "Xin lỗi, vai trò của bạn chưa được phép làm việc này."
WHERE = {  # where each role is held
    RoleName.OFFICIAL: "phuong-a",
    RoleName.SCHOOL_ADMIN: "th-a",
    RoleName.TEACHER: "th-a-1a",
    RoleName.PARENT: "th-a-1a",
    RoleName.COMMUNITY: "tdp-1",
}
Scenario = Callable[[World, int], Awaitable[bool]]  # does the action; True if it took effect


async def count(world: World, model: type[Invite] | type[Unit] | type[ActivityReport]) -> int:
    async with world.db.session() as session:
        return int((await session.exec(select(func.count()).select_from(model))).one())


def inviting(role: str, unit: str) -> Scenario:
    async def scenario(world: World, actor: int) -> bool:
        [answer] = await world.say(actor, f"/moi {role} {unit}")
        made = await count(world, Invite) == 1
        assert made == answer.startswith("Mã mời"), answer
        assert made or answer.startswith(NOT_ALLOWED)
        return made

    return scenario


async def revoking(world: World, actor: int) -> bool:
    async with world.db.session() as session:
        invite, _ = await invites.create(
            session, RoleName.PARENT, await world.unit("th-a-1a"), None
        )
        await session.commit()
    [answer] = await world.say(actor, f"/huymoi {invite.id}")
    async with world.db.session() as session:
        revoked = (await session.get(Invite, invite.id)).revoked_at is not None  # type: ignore[union-attr]
    assert revoked == answer.startswith("Đã thu hồi"), answer
    return revoked


async def binding(world: World, actor: int) -> bool:
    group = await world.group("Phụ huynh lớp 1A", [actor])
    prompt = await world.add_bot(group, by=actor)
    if not prompt:
        async with world.db.session() as session:
            chat = (await session.exec(select(Chat).where(Chat.type == "group"))).one()
        assert chat.unit_id is None, "an unbound group stays unbound"
        return False
    school, unit = await world.unit("th-a"), await world.unit("th-a-1a")
    buttons = [data for _, data in await world.last_buttons(group)]
    if f"bind:1:u:{school}" in buttons:  # an official starts from the ward
        await world.press(group, actor, f"bind:1:u:{school}")
    assert await world.press(group, actor, f"bind:1:p:{unit}") is None
    assert await world.press(group, actor, f"bind:1:a:{unit}:parents") is None
    async with world.db.session() as session:
        chat = (await session.exec(select(Chat).where(Chat.type == "group"))).one()
    assert (chat.unit_id, chat.audience) == (unit, "parents")
    return True


async def listing(world: World, actor: int) -> bool:
    [answer] = await world.say(actor, "/donvi")
    assert answer.startswith(("Đơn vị của bạn", NOT_ALLOWED)), answer
    return answer.startswith("Đơn vị của bạn")


async def adding_unit(world: World, actor: int) -> bool:
    before = await count(world, Unit)
    [answer] = await world.say(actor, "/themdonvi th-a Lớp 3A")
    added = await count(world, Unit) == before + 1
    assert added == answer.startswith("Đã thêm"), answer
    return added


async def announcing(world: World, actor: int) -> bool:
    [answer] = await world.say(actor, "/thongbao Họp phụ huynh sáng Chủ nhật")
    assert answer.startswith(("Bản nháp thông báo", NOT_ALLOWED)), answer
    return answer.startswith("Bản nháp thông báo")


async def approving(world: World, actor: int) -> bool:
    """A pending announcement by another official; the actor taps "Duyệt" (as a forged tap:
    only approvers are sent the button)."""
    author = await world.person("Cán bộ soạn")
    await world.grant(author, "official", "phuong-a")
    async with world.db.session() as session:
        announcement = Announcement(
            author_id=await world.person_id(author),
            text="Họp phụ huynh",
            audiences=["parents"],
            unit_ids=[await world.unit("phuong-a")],
            status="pending",
        )
        session.add(announcement)
        await session.commit()
    toast = await world.forge_press(actor, actor, f"ann:{announcement.id}:ok")
    async with world.db.session() as session:
        decided = await session.get(Announcement, announcement.id)
    approved = decided is not None and decided.status == "approved"
    assert approved == (toast is None), toast
    return approved


async def reporting_a_task(world: World, actor: int) -> bool:
    """A "06 rõ" task of school A; the actor answers its reminder (a forged tap: reminders go
    to the unit's staff only)."""
    async with world.db.session() as session:
        task = Task(
            key="p:1", plan="p", title="Chọn mô hình", owner_unit_id=await world.unit("th-a")
        )
        session.add(task)
        await session.commit()
    toast = await world.forge_press(actor, actor, f"task:{task.id}:done")
    async with world.db.session() as session:
        answers = (await session.exec(select(TaskAnswer))).all()
    reported = len(answers) == 1
    assert reported == (toast is None), toast
    return reported


async def reporting_an_activity(world: World, actor: int) -> bool:
    [answer] = await world.say(actor, "/baocao")
    started = await count(world, ActivityReport) == 1
    assert started == answer.startswith("Báo cáo hoạt động"), answer
    assert started or answer.startswith(NOT_ALLOWED)
    return started


async def approving_a_model(world: World, actor: int) -> bool:
    """A model of school A put forward by its administrator; the actor taps "Duyệt" (as a
    forged tap: only the ward's officials are sent the button)."""
    author = await world.person("Cô quản lý")
    await world.grant(author, "school_admin", "th-a")
    async with world.db.session() as session:
        model = ExemplaryModel(
            person_id=await world.person_id(author),
            unit_id=await world.unit("th-a"),
            title="Góc đọc sách",
            status="pending",
        )
        session.add(model)
        await session.commit()
    toast = await world.forge_press(actor, actor, f"mh:{model.id}:ok")
    async with world.db.session() as session:
        decided = await session.get(ExemplaryModel, model.id)
    approved = decided is not None and decided.status == "approved"
    assert approved == (toast is None), toast
    return approved


async def receiving_trend_alerts(world: World, actor: int) -> bool:
    """Three reports of one rumour in school A within the hour: is the actor sent the alert?"""
    school = await world.unit("th-a")
    now = utcnow()
    items = [
        Feedback(school, now - timedelta(minutes=m), "misinformation", "negative", text)
        for m, text in (
            (50, "Nghe nói có kẻ bắt cóc học sinh ở cổng trường"),
            (20, "Có người lạ bắt cóc học sinh ở cổng trường, thật không?"),
            (5, "Báo tin sai: bắt cóc ở cổng trường"),
        )
    ]

    async def source(start: datetime, end: datetime) -> list[Feedback]:
        return items

    await alert_bursts(world.db, Templates(DEFAULT_CONTENT_DIR / "templates"), source, now)
    async with world.db.session() as session:
        query = (
            select(func.count())
            .select_from(Delivery)
            .join(Chat, col(Chat.id) == Delivery.chat_id)
            .where(Chat.platform_chat_id == str(actor))
        )
        return int((await session.exec(query)).one()) > 0


def closing_an_item(kind: str, unit: str, data: str) -> Scenario:
    """An open item (a question to school A, a misinformation report from class 1A); the actor
    taps its first button (as a forged tap: only those who may are sent it) and types."""

    async def scenario(world: World, actor: int) -> bool:
        async with world.db.session() as session:
            item = FeedbackItem(kind=kind, text="Khi nào họp?", unit_id=await world.unit(unit))
            session.add(item)
            await session.commit()
        toast = await world.forge_press(actor, actor, data.format(item.id))
        if toast is not None:
            return False
        await world.news(actor)
        await world.say(actor, "Thứ bảy ạ")
        async with world.db.session() as session:
            closed = await session.get(FeedbackItem, item.id)
        assert closed is not None and closed.status == "answered"
        return True

    return scenario


async def signing_in(world: World, actor: int) -> bool:
    """/dangnhap: a one-time dashboard link, or the refusal that says who it is for."""
    [answer] = await world.say(actor, "/dangnhap")
    sent = "/admin/vao/" in answer
    assert sent or answer.startswith("Trang quản lý chỉ dành cho"), answer
    return sent


SCENARIOS: dict[Action, Scenario] = {
    Action.INVITE_OFFICIAL: inviting("canbo", "phuong-a"),
    Action.INVITE_SCHOOL_ADMIN: inviting("quanly", "th-a"),
    Action.INVITE_TEACHER: inviting("giaovien", "th-a"),
    Action.INVITE_PARENT: inviting("phuhuynh", "th-a-1a"),
    Action.INVITE_COMMUNITY: inviting("nguoidan", "tdp-1"),
    Action.REVOKE_INVITE: revoking,
    Action.BIND_GROUP: binding,
    Action.LIST_UNITS: listing,
    Action.ADD_UNIT: adding_unit,
    Action.ANNOUNCE: announcing,
    Action.APPROVE_ANNOUNCEMENT: approving,
    Action.REPORT_TASK: reporting_a_task,
    Action.REPORT_ACTIVITY: reporting_an_activity,
    Action.APPROVE_MODEL: approving_a_model,
    Action.SEE_TRENDS: receiving_trend_alerts,
    Action.ANSWER_QUESTION: closing_an_item("question", "th-a", "q:{}:a"),
    Action.HANDLE_MISINFORMATION: closing_an_item("misinformation", "th-a-1a", "mi:{}:c"),
    Action.DASHBOARD: signing_in,
}
# What each role may do, written out here rather than read from PERMISSIONS, so a wrong entry
# in the table fails: O official, S school admin, T teacher, P parent, C community.
ALLOWED: dict[Action, str] = {
    Action.INVITE_OFFICIAL: "O",
    Action.INVITE_SCHOOL_ADMIN: "OS",
    Action.INVITE_TEACHER: "OS",
    Action.INVITE_PARENT: "OST",
    Action.INVITE_COMMUNITY: "O",
    Action.REVOKE_INVITE: "OS",
    Action.BIND_GROUP: "OST",
    Action.LIST_UNITS: "OST",
    Action.ADD_UNIT: "OS",
    Action.ANNOUNCE: "O",
    Action.APPROVE_ANNOUNCEMENT: "O",
    Action.REPORT_TASK: "OST",
    Action.REPORT_ACTIVITY: "OST",
    Action.APPROVE_MODEL: "O",
    Action.SEE_TRENDS: "O",
    Action.ANSWER_QUESTION: "OST",
    Action.HANDLE_MISINFORMATION: "O",
    Action.DASHBOARD: "OS",
}
LETTER = {
    RoleName.OFFICIAL: "O",
    RoleName.SCHOOL_ADMIN: "S",
    RoleName.TEACHER: "T",
    RoleName.PARENT: "P",
    RoleName.COMMUNITY: "C",
}
CELLS = [(action, role) for action in Action for role in [*RoleName, None]]


def test_every_action_has_a_scenario_and_an_expected_row() -> None:
    assert set(SCENARIOS) == set(Action) == set(PERMISSIONS) == set(ALLOWED)


@pytest.mark.parametrize(
    ("action", "role"),
    CELLS,
    ids=[f"{a.value}-{r.value if r else 'unregistered'}" for a, r in CELLS],
)
async def test_cell(world: World, action: Action, role: RoleName | None) -> None:
    actor = await world.person("Người thử")
    if role is not None:
        await world.grant(actor, role.value, WHERE[role])
    expected = role is not None and LETTER[role] in ALLOWED[action]
    assert await SCENARIOS[action](world, actor) == expected


async def test_school_staff_act_only_for_their_own_school(world: World) -> None:
    admin = await world.person("Hiệu phó trường A")
    await world.grant(admin, "school_admin", "th-a")
    [answer] = await world.say(admin, "/moi giaovien th-b")
    assert answer.startswith(NOT_ALLOWED)
    [answer] = await world.say(admin, "/themdonvi th-b Lớp 2B")
    assert answer.startswith(NOT_ALLOWED)
    [answer] = await world.say(admin, "/donvi")
    assert "th-a-1a" in answer and "th-b" not in answer and "phuong-a" not in answer
    async with world.db.session() as session:
        assert (await session.exec(select(func.count()).select_from(Invite))).one() == 0
        units = (await session.exec(select(Unit.code).where(col(Unit.source) == "chat"))).all()
    assert units == []
