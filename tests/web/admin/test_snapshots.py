"""The dashboard's figures: computed once for viewers asking at once, served while a minute
old, then recomputed in the background while the old ones are still shown."""

from __future__ import annotations

import asyncio

from bot.domain import Button
from bot.services.broadcasts import Broadcast
from bot.web.admin.snapshots import Snapshots
from content.units import class_code
from tests.reports.test_reach_end_to_end import _send
from tests.web.admin.conftest import Site, staff
from tests.web.admin.test_pages import cell


async def test_viewers_asking_at_once_wait_for_one_computation() -> None:
    now = [0.0]
    snapshots: Snapshots[int] = Snapshots(ttl=60, clock=lambda: now[0])
    runs = 0

    async def compute() -> int:
        nonlocal runs
        runs += 1
        await asyncio.sleep(0.01)
        return runs

    assert await asyncio.gather(*(snapshots.get("q4", compute) for _ in range(5))) == [1] * 5
    now[0] = 59
    assert await snapshots.get("q4", compute) == 1 and runs == 1
    now[0] = 61
    assert await snapshots.get("q4", compute) == 1, "the old figures, while new ones are made"
    await asyncio.sleep(0.05)
    assert await snapshots.get("q4", compute) == 2 and runs == 2
    assert await snapshots.get("q3", compute) == 3, "another period is its own"


async def test_a_new_tap_shows_within_a_minute(site: Site) -> None:
    w = site.world
    official = await staff(w, "Hùng", "official", "phuong-a")
    parent = await w.sandbox.create_user("PH1")
    group = await w.bound_group("1A", class_code("th-a", "Lớp 1A"), "parents", [parent])
    brief = await _send(w, Broadcast(key="b", title="Tóm tắt", text="Nghị quyết",
                                     buttons=(Button("Đã hiểu", "ack:{occurrence}"),)),
                        [group])  # fmt: skip
    assert cell(await site.sign_in(official), "acknowledged") == "0"
    await w.press(group, parent, f"ack:{brief}")
    assert cell(await (await site.client.get("/admin/")).text(), "acknowledged") == "0"
    clock = site.dash.figures.clock
    site.dash.figures.clock = lambda: clock() + 61
    shown = []
    for _ in range(50):
        shown.append(cell(await (await site.client.get("/admin/")).text(), "acknowledged"))
        if shown[-1] == "1":
            break
        await asyncio.sleep(0.05)
    assert shown[0] == "0" and shown[-1] == "1"
