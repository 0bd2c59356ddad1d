"""/mohinh: a school's exemplary model goes to the ward's officials, who approve it or say why
not; approved models and sent reports are what the plans' targets count; /toi lists both and
/xoadulieu unlinks them."""

from __future__ import annotations

from datetime import date

from sqlmodel import select

from bot.config import DEFAULT_CONTENT_DIR
from bot.reports.period import parse_period
from bot.services.kpis import Kpi, Scope, evaluate
from bot.services.reach import Filter, reach
from bot.storage.models import ActivityReport, ExemplaryModel, utcnow
from content.campaign.check import load_plans
from tests.activities.conftest import staff
from tests.audiences.test_privacy import traces
from tests.chatworld import World

NAME = "Nguyễn Thị Riêng Tư"


async def models(world: World) -> list[ExemplaryModel]:
    async with world.db.session() as session:
        return list((await session.exec(select(ExemplaryModel))).all())


async def test_a_model_is_approved_by_an_official(world: World) -> None:
    teacher = await staff(world, "Cô Lan", "teacher", "th-a-1a")
    official = await staff(world, "Anh Hùng", "official", "phuong-a")
    await world.say(teacher, "/mohinh")
    await world.say(teacher, "Góc đọc sách tiếng Anh")
    [sent] = await world.say(teacher, "Mỗi lớp một góc sách, 40 đầu sách")
    assert sent.startswith("Đã gửi mô hình «Góc đọc sách tiếng Anh»") and "1 người" in sent
    [request] = await world.news(official)
    assert "Trường Tiểu học A" in request and "Cô Lan" in request
    [model] = await models(world)
    assert (model.status, model.unit_id) == ("pending", await world.unit("th-a"))
    toast = await world.forge_press(teacher, teacher, f"mh:{model.id}:ok")
    assert toast == "Bạn không có quyền với mô hình này."
    assert await world.press(official, official, f"mh:{model.id}:ok") is None
    [told] = await world.news(teacher)
    assert told.startswith("Mô hình «Góc đọc sách tiếng Anh» của bạn đã được Anh Hùng duyệt")
    [model] = await models(world)
    assert model.status == "approved"
    toast = await world.forge_press(official, official, f"mh:{model.id}:no")
    assert toast == "Mô hình này đã được quyết định rồi."


async def test_a_rejection_asks_for_the_reason(world: World) -> None:
    admin = await staff(world, "Cô Hoa", "school_admin", "th-b")
    official = await staff(world, "Anh Hùng", "official", "phuong-a")
    await world.say(admin, "/mohinh")
    await world.say(admin, "Sân chơi")
    await world.say(admin, "Sân chơi cuối tuần")
    await world.news(official)
    [model] = await models(world)
    assert await world.press(official, official, f"mh:{model.id}:no") is None
    [model] = await models(world)
    assert model.status == "pending", "decided when the reason comes"
    [done] = await world.say(official, "Chưa có kết quả đo được")
    assert done.startswith("Đã gửi lý do")
    [told] = await world.news(admin)
    assert told.endswith("Lý do: Chưa có kết quả đo được")
    [model] = await models(world)
    assert (model.status, model.reason) == ("rejected", "Chưa có kết quả đo được")


async def test_an_official_picks_the_school_within_the_ward(world: World) -> None:
    official = await staff(world, "Anh Hùng", "official", "phuong-a")
    other = await staff(world, "Chị Thu", "official", "phuong-a")
    await world.say(official, "/mohinh")
    await world.say(official, "Tủ sách phụ huynh")
    [ask] = await world.say(official, "Phụ huynh góp sách")
    assert ask.startswith("Mô hình này của trường nào?")
    labels = [label for label, _ in await world.last_buttons(official)]
    assert labels == ["Trường Tiểu học A", "Trường Tiểu học B"]
    [model] = await models(world)
    toast = await world.forge_press(
        official, official, f"mh:{model.id}:s:{await world.unit('tdp-1')}"
    )
    assert toast == "Bạn không có quyền với mô hình này."
    assert (
        await world.press(official, official, f"mh:{model.id}:s:{await world.unit('th-b')}") is None
    )
    assert (await world.news(other))[0].startswith("Mô hình điển hình chờ duyệt")
    toast = await world.forge_press(official, official, f"mh:{model.id}:ok")
    assert toast == "Bạn không tự duyệt mô hình của mình được."


NQ71 = "viet_yen_nq71"


async def kpis(world: World, unit: str) -> dict[str, Kpi]:
    plan = load_plans(DEFAULT_CONTENT_DIR / "examples")[NQ71]
    period = parse_period(str(utcnow().year))
    scoped = None if unit == "all" else [await world.unit(unit)]
    async with world.db.reading() as conn:
        f = Filter(period, units=scoped)
        found = await reach(conn, f)
        return {
            k.target.metric: k for k in await evaluate(conn, plan, Scope(found, [], f, utcnow()))
        }


def _report(
    unit: int, kind: str, day: date, status: str = "sent", plan: str | None = NQ71
) -> ActivityReport:
    return ActivityReport(unit_id=unit, kind=kind, held_on=day, status=status, plan=plan)


async def test_the_targets_count_sent_reports_and_approved_models(world: World) -> None:
    a, b = await world.unit("th-a"), await world.unit("th-b")
    today = utcnow().date()
    async with world.db.session() as session:
        session.add_all([
            _report(a, "thematic_session", today),
            _report(a, "thematic_session", today),
            _report(b, "thematic_session", today, status="draft"),
            _report(b, "thematic_session", date(2000, 1, 1)),
            _report(b, "thematic_session", today, plan=None),  # another plan's: not counted
            _report(b, "plan", today, plan="other"),
            _report(a, "plan", today),
            ExemplaryModel(unit_id=a, title="x", status="approved", decided_at=utcnow()),
            ExemplaryModel(unit_id=b, title="y", status="rejected", decided_at=utcnow()),
        ])  # fmt: skip
        await session.commit()
    found = await kpis(world, "all")
    sessions = found["thematic_sessions"]
    assert (sessions.achieved, sessions.status.value) == (2.0, "met")
    assert (sessions.figures["sessions"], sessions.figures["by_unit"]) == (2, {"th-a": 2})
    built = found["plans_built"]
    assert built.achieved == 50.0 and built.figures["missing"] == ["th-b"]
    exemplar = found["exemplar_models"]
    assert exemplar.achieved == 0.0 and exemplar.figures["by_school"] == {"th-a": 1, "th-b": 0}
    assert exemplar.status.value != "met", "school B has no approved model"
    only_a = await kpis(world, "th-a")
    assert only_a["exemplar_models"].status.value == "met"
    assert only_a["plans_built"].achieved == 100.0


async def test_toi_lists_them_and_erasure_unlinks_them(world: World) -> None:
    me = await staff(world, NAME, "teacher", "th-a-1a")
    official = await staff(world, "Anh Hùng", "official", "phuong-a")
    await world.say(me, "/mohinh")
    await world.say(me, "Góc đọc sách")
    await world.say(me, "Mỗi lớp một góc")
    [model] = await models(world)
    await world.press(official, official, f"mh:{model.id}:ok")
    await world.say(me, "/baocao")
    [kept] = await world.say(me, "/toi")
    assert "Báo cáo hoạt động bạn đã lập (/baocao): 1" in kept
    assert "Mô hình điển hình bạn đã đề xuất (/mohinh): 1" in kept
    pid = await world.person_id(me)
    await world.say(me, "/xoadulieu")
    await world.press(me, me, "erase:yes")
    assert await traces(world, me, NAME) == []
    async with world.db.session() as session:
        [report] = (await session.exec(select(ActivityReport))).all()
        [model] = (await session.exec(select(ExemplaryModel))).all()
    assert report.person_id is None and model.person_id is None and pid is not None
    assert model.status == "approved", "the model still counts"
