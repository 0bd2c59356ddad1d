"""One count of what became of an item: deliveries by status and by why they failed, people
reached, feedback; and the author's summary that says what each failure was."""

from __future__ import annotations

from bot.delivery.sender import ChannelSender
from bot.services.announcements import progress
from bot.services.broadcasts import Broadcast, enqueue
from bot.storage.db import Database
from bot.storage.deliveries import Counts, Failure, occurrence_counts
from bot.storage.models import Chat, Feedback
from content.templates import Templates
from tests.delivery.conftest import BOT_ID, World, send_all
from tests.handlers.fakes import TEMPLATES_DIR


async def test_counts_and_the_summary_say_what_each_failure_was(db: Database, world: World) -> None:
    groups = await world.groups(db, 7)
    kicked, refused, flaky, lost, *fine = groups.values()
    await world.sandbox.remove_member(kicked, BOT_ID)
    await world.sandbox.fault(method="sendMessage", chat_id=refused, status=400)
    await world.sandbox.fault(method="sendMessage", chat_id=flaky, status=500)
    await world.sandbox.fault(method="sendMessage", chat_id=lost, status="timeout")
    async with db.session() as s:  # the first fine group has 40 people, the others one
        big = await s.get(Chat, next(c for c, p in groups.items() if p == fine[0]))
        assert big is not None
        big.member_count = 40
        s.add(big)
        await s.commit()
    occurrence = await enqueue(db, Broadcast(key="c:1", title="t", text="Họp"), list(groups))
    other = await enqueue(db, Broadcast(key="c:2", title="t", text="Họp"), [])
    sender = ChannelSender(db, world.adapter, rate_per_s=0, retry_base_s=0.01)
    await send_all(sender, db)
    async with db.session() as s:
        chat = next(iter(groups))
        s.add_all(
            [
                Feedback(occurrence_id=occurrence, chat_id=chat, kind="ack"),
                Feedback(occurrence_id=occurrence, chat_id=chat, kind="ack"),
                Feedback(occurrence_id=occurrence, chat_id=chat, kind="question"),
            ]
        )
        await s.commit()

    counts = await occurrence_counts(db, [occurrence, other])

    assert counts[other] == Counts()
    mine = counts[occurrence]
    assert dict(mine.statuses) == {"sent": 3, "failed": 3, "uncertain": 1}
    assert dict(mine.failures) == {Failure.CHAT_GONE: 1, Failure.REFUSED: 1, Failure.GAVE_UP: 1}
    assert mine.reached == 40 + 1 + 1, "everyone in the groups it reached"
    assert dict(mine.feedback) == {"ack": 2, "question": 1}
    assert (mine.total, mine.waiting) == (7, 0)

    summary = Templates(TEMPLATES_DIR).render(
        "announce_progress", number=4, p=await progress(db, occurrence), due_at=None, urgent=False
    )
    assert summary.splitlines()[1:] == [
        "Gửi được: 3/7 nhóm",
        "Không gửi được: 3 nhóm",
        "· 1: loa bị xóa khỏi nhóm, bị chặn, hoặc nhóm không còn hoạt động",
        "· 1: Telegram hoặc Zalo từ chối tin nhắn",
        "· 1: mạng lỗi kéo dài, loa đã thử lại nhiều lần rồi dừng",
        "Không chắc đã đến: 1 (mạng gián đoạn đúng lúc gửi; loa không gửi lại để tránh trùng)",
    ]
