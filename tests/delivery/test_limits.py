"""The pace of one channel: even, under the limit, and no burst after the process stalls."""

from __future__ import annotations

import asyncio
import itertools
import time

from bot.delivery.limits import Pacer


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
    assert busiest_second(departures) <= 49  # 98.5% of the limit, whatever happened
    gaps = sorted(b - a for a, b in itertools.pairwise(departures))
    assert gaps[len(gaps) // 2] >= 1 / 50, "evenly paced, not in bursts"


async def test_a_429_pauses_every_sender_of_the_channel() -> None:
    pacer = Pacer(0)  # no rate limit: only the pause holds sends back
    pacer.pause(0.3)
    started = time.monotonic()
    await asyncio.gather(*(pacer.acquire() for _ in range(5)))
    assert time.monotonic() - started >= 0.29
