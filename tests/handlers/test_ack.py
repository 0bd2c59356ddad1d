"""The "Đã hiểu" button: counted once per person and post, thanked differently the second time."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlmodel import col, func, select

from bot.storage.db import Database
from bot.storage.models import Chat, Feedback, Occurrence, Person
from tests.handlers.fakes import Harness, deliver_post, tap


async def _post(db: Database) -> int:
    async with db.session() as session:
        occurrence = Occurrence(
            key="nq71:1", title="NQ71", text="<b>NQ71</b>", due_at=datetime.now(UTC)
        )
        session.add(occurrence)
        await session.commit()
        assert occurrence.id is not None
    await deliver_post(db, occurrence.id)
    return occurrence.id


async def _count(db: Database, table: type[Feedback] | type[Person]) -> int:
    async with db.session() as session:
        return (await session.exec(select(func.count()).select_from(table))).one()


async def test_ack_twice_counts_once_and_answers_differently(any_db: Database) -> None:
    post = await _post(any_db)
    bot = Harness(any_db)

    await bot.deliver(tap(f"ack:{post}", name="Lan"))
    await bot.deliver(tap(f"ack:{post}", name="Lan"))

    first, second = bot.platform.answers
    assert first[1] == "Cảm ơn Lan đã xác nhận đã hiểu."
    assert second[1] is not None and "đã xác nhận tin này rồi" in second[1]
    assert first[0] != second[0]  # each tap's own callback was answered
    assert await _count(any_db, Feedback) == 1
    async with any_db.session() as session:
        feedback = (await session.exec(select(Feedback))).one()
        person = (await session.exec(select(Person))).one()
        chat = (await session.exec(select(Chat))).one()
    assert (feedback.kind, feedback.occurrence_id, feedback.person_id) == ("ack", post, person.id)
    assert feedback.chat_id == chat.id
    assert (person.platform_user_id, person.display_name) == ("7", "Lan")
    assert bot.platform.sent == []  # nothing posted into the group


async def test_two_people_are_two_acks_and_a_new_name_is_kept(db: Database) -> None:
    post = await _post(db)
    bot = Harness(db)

    await bot.deliver(tap(f"ack:{post}", user_id=1, name="Lan"))
    await bot.deliver(tap(f"ack:{post}", user_id=2, name="Minh"))
    await bot.deliver(tap(f"ack:{post}", user_id=1, name="Lan Anh"))

    assert await _count(db, Feedback) == 2
    async with db.session() as session:
        names = (await session.exec(select(Person.display_name).order_by(col(Person.id)))).all()
    assert names == ["Lan Anh", "Minh"]


async def test_answers_are_plain_text(db: Database) -> None:
    post = await _post(db)
    bot = Harness(db)
    await bot.deliver(tap(f"ack:{post}", name="Bố <Bin> & mẹ"))

    assert bot.platform.answers[0][1] == "Cảm ơn Bố <Bin> & mẹ đã xác nhận đã hiểu."


async def test_ack_on_an_unknown_post_is_answered_politely(db: Database) -> None:
    bot = Harness(db)
    await bot.deliver(tap("ack:999"), tap("ack:abc"))

    assert [a[1] for a in bot.platform.answers] == [
        "Xin lỗi, không tìm thấy tin này. Có thể tin đã được gỡ hoặc không còn nhận xác nhận."
    ] * 2
    assert await _count(db, Feedback) == 0
    assert await _count(db, Person) == 0


async def test_a_tap_on_a_button_loa_does_not_know_is_still_answered(db: Database) -> None:
    bot = Harness(db)
    await bot.deliver(tap("nope:3", update_id=77))

    assert bot.platform.answers == [("cb77", None)]  # stops the spinner, says nothing


async def test_a_forged_tap_counts_only_on_a_post_delivered_there(any_db: Database) -> None:
    """Button data is the client's to forge: a tap naming a post that was never delivered to
    this chat, or delivered as another message, or missed, counts for nothing."""
    post = await _post(any_db)  # delivered to group -100 as message 1
    async with any_db.session() as session:
        missed = Occurrence(key="missed", title="x", text="x", due_at=datetime.now(UTC))
        elsewhere = Occurrence(key="elsewhere", title="x", text="x", due_at=datetime.now(UTC))
        session.add_all([missed, elsewhere])
        await session.commit()
        assert elsewhere.id is not None
    await deliver_post(any_db, elsewhere.id, chat="-200")
    bot = Harness(any_db)

    other_message = tap(f"ack:{post}", user_id=3)
    other_message["callback_query"]["message"]["message_id"] = 2
    await bot.deliver(
        tap(f"ack:{missed.id}", user_id=1),
        tap(f"ack:{elsewhere.id}", user_id=2),
        other_message,
    )

    unknown = "Xin lỗi, không tìm thấy tin này. Có thể tin đã được gỡ hoặc không còn nhận xác nhận."
    assert [a[1] for a in bot.platform.answers] == [unknown] * 3
    assert await _count(any_db, Feedback) == 0
    await bot.deliver(tap(f"ack:{post}", user_id=3))
    assert await _count(any_db, Feedback) == 1, "the real tap counts"
