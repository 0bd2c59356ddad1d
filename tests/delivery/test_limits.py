"""The pace of one channel: even, under the limit, and no burst after the process stalls."""

from __future__ import annotations

import asyncio
import itertools
import time

from bot.delivery.limits import CATCH_UP_SLOTS, HEADROOM, Pacer


def busiest_second(times: list[float]) -> int:
    return max(sum(1 for u in times if t - 1.0 < u <= t) for t in times)


async def test_a_stall_does_not_turn_into_a_burst() -> None:
    pacer = Pacer(50)
    departures: list[float] = []

    async def send() -> None:
        await pacer.acquire()
        departures.append(time.monotonic())

    tasks = [asyncio.create_task(send()) for _ in range(110)]
    await asyncio.sleep(0.3)
    time.sleep(0.4)  # noqa: ASYNC251  the process stalls (a GC pause, a slow turn)
    await asyncio.gather(*tasks)
    assert busiest_second(departures) <= 50  # never over the limit, whatever happened
    gaps = sorted(b - a for a, b in itertools.pairwise(departures))
    assert gaps[len(gaps) // 2] >= 1 / 50, "evenly paced, not in bursts"


async def test_a_429_pauses_every_sender_of_the_channel() -> None:
    pacer = Pacer(0)  # no rate limit: only the pause holds sends back
    pacer.pause(0.3)
    started = time.monotonic()
    await asyncio.gather(*(pacer.acquire() for _ in range(5)))
    assert time.monotonic() - started >= 0.29


async def test_a_late_send_does_not_shift_the_schedule() -> None:
    """The sends after a late one (its claim came late) catch up: the broadcast ends when its
    schedule said, not a stall later (at 20/s a lost slot used to be lost for good)."""
    pacer = Pacer(20)
    interval = 1 / (20 * HEADROOM)
    departures: list[float] = []
    for i in range(20):
        if i == 10:
            time.sleep(0.14)  # noqa: ASYNC251  the 11th send comes 0.09 s after its slot
        await pacer.acquire()
        departures.append(time.monotonic())
    assert departures[-1] - departures[0] < 19 * interval + 0.045, "caught up"
    gaps = [b - a for a, b in itertools.pairwise(departures)]
    assert sum(1 for g in gaps if g < interval / 2) <= CATCH_UP_SLOTS, "a small burst at most"
