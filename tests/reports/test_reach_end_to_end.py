"""Reach and KPIs of a scenario played through the sandbox: posts sent to bound groups, one
group gone, people tapping Đã hiểu (one twice) and answering a quiz right, wrong and again."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from bot.bench_report import PLAN
from bot.delivery.sender import ChannelSender
from bot.domain import Button
from bot.reports.period import quarter_of
from bot.reports.report import Content, build_report
from bot.services.broadcasts import Broadcast, enqueue
from bot.services.reach import Filter, reach, unit_tree
from bot.storage.models import Chat, utcnow
from content.units import class_code
from tests.chatworld import BOT_ID, World
from tests.delivery.conftest import send_all

CONTENT = Content({PLAN.id: PLAN}, {"nq71_2026": PLAN.id})  # staff briefed, understood, sessions


async def _send(world: World, broadcast: Broadcast, groups: list[int]) -> int:
    ids = []
    async with world.db.session() as session:
        for group in groups:
            chat = (await session.exec(_chat(group))).one()
            ids.append(chat)
    occurrence = await enqueue(world.db, broadcast, ids)
    await send_all(
        ChannelSender(world.db, world.adapter, rate_per_s=0, retry_base_s=0.01), world.db
    )
    return occurrence


def _chat(group: int) -> Any:
    from sqlmodel import select

    return select(Chat.id).where(Chat.platform_chat_id == str(group))


def _figures(row: dict[str, Any]) -> dict[str, Any]:
    keys = ("sent_chats", "audience", "acknowledged", "answered", "understood", "engaged")
    return {k: row[k] for k in (*keys, "failed")}


async def play(w: World) -> None:
    """Two schools' groups (one gone), a briefing tapped (once twice) and a quiz answered."""
    a, b, c, d, e, f, g = [await w.sandbox.create_user(n) for n in "ABCDEFG"]
    class_1a = await w.group("1A phụ huynh", [])
    del class_1a  # an unbound group gets nothing and counts nowhere
    g1 = await w.bound_group("1A phụ huynh", class_code("th-a", "Lớp 1A"), "parents", [a, b, c])
    g2 = await w.bound_group("Cán bộ A", "th-a", "staff", [d, e])
    g3 = await w.bound_group("Phụ huynh B", "th-b", "parents", [f])
    gone = await w.bound_group("Phụ huynh B2", "th-b", "parents", [g])
    await w.sandbox.remove_member(gone, BOT_ID)

    brief = await _send(
        w,
        Broadcast(key="c:nq71_2026:brief:1", title="Tóm tắt", text="Nghị quyết 71",
                  buttons=(Button("Đã hiểu", "ack:{occurrence}"),),
                  source="campaign:nq71_2026/brief", kind="resolution_summary"),
        [g1, g2, g3, gone],
    )  # fmt: skip
    for chat, user in ((g1, a), (g1, a), (g1, b), (g2, d), (g3, f)):
        await w.press(chat, user, f"ack:{brief}")
    quiz = await _send(
        w,
        Broadcast(key="c:nq71_2026:quiz:1", title="Câu hỏi", text="Đâu là đột phá?",
                  buttons=tuple(Button(o, f"quiz:{{occurrence}}:{i}") for i, o in
                                enumerate(["Sai", "Đúng", "Sai nữa"])),
                  source="campaign:nq71_2026/quiz", kind="quiz",
                  meta={"answer": 1, "options": ["Sai", "Đúng", "Sai nữa"]}),
        [g1, g3, gone],
    )  # fmt: skip
    for chat, user, choice in ((g1, a, 1), (g1, a, 0), (g1, b, 0), (g1, c, 1), (g3, f, 2)):
        await w.press(chat, user, f"quiz:{quiz}:{choice}")


async def test_reach_counts_people_once_and_failed_chats_never(any_world: World) -> None:
    w = any_world
    await play(w)
    period = quarter_of((utcnow() + timedelta(hours=7)).date())
    report = await build_report(w.db, period, CONTENT, now=period.end)

    assert _figures(report["totals"]) == {
        "sent_chats": 5, "audience": 3 + 2 + 1 + 3 + 1, "acknowledged": 4, "answered": 4,
        "understood": 2, "engaged": 8, "failed": 1,
    }, "a tap twice is one person; the gone group failed, was not reached"  # fmt: skip
    assert report["totals"]["ack_audience"] == 6, "only the briefing asked for Đã hiểu"
    assert report["totals"]["acknowledged_rate"] == 66.7
    assert report["totals"]["understood_rate"] == 50.0
    schools = {row["code"]: _figures(row) for row in report["by_school"]}
    assert schools == {
        "th-a": {"sent_chats": 3, "audience": 8, "acknowledged": 3, "answered": 3,
                 "understood": 2, "engaged": 6, "failed": 0},
        "th-b": {"sent_chats": 2, "audience": 2, "acknowledged": 1, "answered": 1,
                 "understood": 0, "engaged": 2, "failed": 1},
    }, "the class group counts for its school"  # fmt: skip
    audiences = {row["name"]: _figures(row) for row in report["by_audience"]}
    assert audiences["staff"] == {
        "sent_chats": 1, "audience": 2, "acknowledged": 1, "answered": 0, "understood": 0,
        "engaged": 1, "failed": 0,
    }  # fmt: skip
    posts = {row["post"]: _figures(row) for row in report["posts"]}
    assert posts["campaign:nq71_2026/quiz"] == {
        "sent_chats": 2, "audience": 4, "acknowledged": 0, "answered": 4, "understood": 2,
        "engaged": 4, "failed": 0,
    }  # fmt: skip

    kpis = {k["metric"]: k for k in report["kpis"]}
    assert (kpis["briefed"]["achieved"], kpis["briefed"]["status"]) == (50.0, "behind")
    assert kpis["briefed"]["figures"]["registered"] == 2
    assert (kpis["understood"]["achieved"], kpis["understood"]["status"]) == (50.0, "behind")
    assert kpis["understood"]["figures"] == {"parents": {"answered": 4, "understood": 2}}
    sessions = kpis["thematic_sessions"]["figures"]
    assert (sessions["sessions"], sessions["by_unit"]) == (0, {})

    async with w.db.reading() as conn:
        found = await reach(conn, Filter(period))
        by_unit = found.by_unit(await unit_tree(conn))
    ward, class_1a = await w.unit("phuong-a"), await w.unit(class_code("th-a", "Lớp 1A"))
    assert by_unit[ward] == found.total(), "the ward holds everything below it"
    assert (by_unit[class_1a].sent_chats, by_unit[class_1a].acknowledged) == (2, 2)
    assert found.by_plan(CONTENT.plan_of)[PLAN.id] == found.total()
    assert set(found.by_campaign()) == {"nq71_2026"}
    month = f"{utcnow().astimezone(period.tz):%Y-%m}"
    assert [row["name"] for row in report["by_month"]] == [month]
    assert _figures(report["by_month"][0]) == _figures(report["totals"])
    # "_" in a campaign id is a letter, not a LIKE wildcard
    async with w.db.reading() as conn:
        assert not (await reach(conn, Filter(period, ["nq7__2026"]))).post_audiences

    school_b = await build_report(w.db, period, CONTENT, unit="th-b", now=period.end)
    assert _figures(school_b["totals"]) == schools["th-b"]
    assert school_b["unit"] == {"code": "th-b", "name": "Trường Tiểu học B", "kind": "school"}
