"""A result the database refuses must not stop the outbox: the row is quarantined, the rest go."""

from __future__ import annotations

import asyncio

from sqlalchemy import text
from sqlmodel import select

from bot.delivery.sender import ChannelSender
from bot.services.broadcasts import Broadcast, enqueue
from bot.storage import deliveries
from bot.storage.db import Database
from bot.storage.models import Chat, Delivery, utcnow
from tests.delivery.conftest import World, send_all

WEDGE_TIMEOUT = 15.0  # a wedged sender never finishes; a healthy one needs a second or two


def item(key: str = "wedge:1") -> Broadcast:
    return Broadcast(key=key, title="Họp phụ huynh", text="Họp phụ huynh lúc 8 giờ Chủ nhật.")


async def rows(db: Database) -> dict[int, Delivery]:
    async with db.session() as s:
        return {d.chat_id: d for d in (await s.exec(select(Delivery))).all()}


async def add_chat(db: Database, platform_chat_id: int) -> int:
    """The chat row loa made when it first saw a group under this id."""
    async with db.session() as s:
        chat = Chat(
            platform="telegram",
            platform_chat_id=str(platform_chat_id),
            type="group",
            audience="staff",
            member_count=1,
            member_count_at=utcnow(),
        )
        s.add(chat)
        await s.commit()
        assert chat.id is not None
        return chat.id


async def deactivate(db: Database, chat_id: int) -> None:
    async with db.session() as s:
        chat = await s.get(Chat, chat_id)
        assert chat is not None
        chat.active = False
        s.add(chat)
        await s.commit()


async def test_a_pending_delivery_of_an_inactive_chat_fails_unsent(
    db: Database, world: World
) -> None:
    """The migration handler saw the new id first and deactivated the old row: its waiting
    delivery is not claimed (it used to be, and the move broke the unique chat id)."""
    groups = await world.groups(db, 2)
    (old_chat, old_id), (_, other_id) = groups.items()
    await enqueue(db, item(), list(groups))
    new_id = await world.sandbox.migrate(old_id)
    new_chat = await add_chat(db, new_id)
    await deactivate(db, old_chat)

    counts = await send_all(ChannelSender(db, world.adapter, rate_per_s=0), db, WEDGE_TIMEOUT)

    assert counts == {"sent": 1, "failed": 1}
    by_chat = await rows(db)
    assert (by_chat[old_chat].status, by_chat[old_chat].error) == ("failed", "chat inactive")
    assert await world.copies(other_id) == 1
    assert await world.copies(new_id) == 0 and await world.copies(old_id) == 0
    sent_to = {str(c["chat_id"]) for c in await world.sandbox.log(method="sendMessage")}
    assert str(old_id) not in sent_to, "an inactive chat is not even tried"
    async with db.session() as s:
        assert (await s.get(Chat, new_chat)).active  # type: ignore[union-attr]


async def test_a_migration_onto_a_chat_seen_first_delivers_there_once(
    db: Database, world: World
) -> None:
    """The group migrated, loa already knows the new id, the old row is still active: the
    delivery moves to the known row and is sent once at the new id."""
    groups = await world.groups(db, 1)
    ((old_chat, old_id),) = groups.items()
    new_id = await world.sandbox.migrate(old_id)
    new_chat = await add_chat(db, new_id)
    await enqueue(db, item(), [old_chat])

    counts = await send_all(ChannelSender(db, world.adapter, rate_per_s=0), db, WEDGE_TIMEOUT)

    assert counts == {"sent": 1}
    assert await world.copies(new_id) == 1
    assert list(await rows(db)) == [new_chat], "the delivery now belongs to the new chat's row"
    async with db.session() as s:
        old = await s.get(Chat, old_chat)
        assert old is not None and not old.active and old.platform_chat_id == str(old_id)


async def test_a_migration_onto_a_chat_that_has_its_own_copy_sends_one(
    db: Database, world: World
) -> None:
    groups = await world.groups(db, 1)
    ((old_chat, old_id),) = groups.items()
    new_id = await world.sandbox.migrate(old_id)
    new_chat = await add_chat(db, new_id)
    await enqueue(db, item(), [old_chat, new_chat])

    counts = await send_all(ChannelSender(db, world.adapter, rate_per_s=0), db, WEDGE_TIMEOUT)

    assert counts == {"sent": 1, "failed": 1}
    assert await world.copies(new_id) == 1, "one copy, not two"
    by_chat = await rows(db)
    assert by_chat[new_chat].status == "sent"
    failed = by_chat[old_chat]
    assert failed.status == "failed" and failed.error is not None
    assert failed.error.startswith("migrated")


async def test_a_very_long_refusal_is_recorded_shortened(db: Database, world: World) -> None:
    groups = await world.groups(db, 3)
    chat, platform_id = next(iter(groups.items()))
    description = "Bad Request: " + "message is far too strange; " * 30  # ~850 characters
    await world.sandbox.fault(
        method="sendMessage", chat_id=platform_id, status=400, description=description
    )
    await enqueue(db, item(), list(groups))

    counts = await send_all(ChannelSender(db, world.adapter, rate_per_s=0), db, WEDGE_TIMEOUT)

    assert counts == {"sent": 2, "failed": 1}
    error = (await rows(db))[chat].error
    assert error is not None and error.startswith("bad_request: Message is far too strange")
    assert len(error) <= 500


async def reject(db: Database, chat_id: int, statuses: str = "'sent'") -> None:
    """Make the database refuse to record these statuses for one chat (a constraint, a trigger,
    a column that does not take the value: whatever the cause, the row cannot be written)."""
    async with db.engine.begin() as conn:
        if db.is_sqlite:
            await conn.execute(
                text(
                    "CREATE TRIGGER reject_sent BEFORE UPDATE ON deliveries "
                    f"WHEN NEW.status IN ({statuses}) AND NEW.chat_id = {chat_id} "
                    "BEGIN SELECT RAISE(ABORT, 'refused'); END"
                )
            )
            return
        await conn.execute(
            text(
                "CREATE FUNCTION reject_sent() RETURNS trigger AS $$ BEGIN "
                f"IF NEW.status IN ({statuses}) AND NEW.chat_id = {chat_id} THEN "
                "RAISE EXCEPTION 'refused' USING ERRCODE = 'check_violation'; END IF; "
                "RETURN NEW; END $$ LANGUAGE plpgsql"
            )
        )
        await conn.execute(
            text(
                "CREATE TRIGGER reject_sent BEFORE UPDATE ON deliveries "
                "FOR EACH ROW EXECUTE FUNCTION reject_sent()"
            )
        )


async def test_a_result_the_database_refuses_is_quarantined_and_the_rest_go(
    db: Database, world: World
) -> None:
    groups = await world.groups(db, 6)
    refused = next(iter(groups))
    await reject(db, refused)
    await enqueue(db, item(), list(groups))

    counts = await send_all(ChannelSender(db, world.adapter, rate_per_s=0), db, WEDGE_TIMEOUT)

    assert counts == {"sent": 5, "failed": 1}
    row = (await rows(db))[refused]
    assert (row.status, row.error) == ("failed", "could not record: IntegrityError")
    assert [await world.copies(p) for p in groups.values()] == [1] * 6, "nothing sent twice"

    await enqueue(db, item("wedge:2"), list(groups))  # and the outbox keeps moving after it
    counts = await send_all(ChannelSender(db, world.adapter, rate_per_s=0), db, WEDGE_TIMEOUT)
    assert counts == {"sent": 10, "failed": 2}


async def test_a_row_that_cannot_be_written_at_all_is_never_sent_again(
    db: Database, world: World
) -> None:
    groups = await world.groups(db, 4)
    refused = next(iter(groups))
    await reject(db, refused, "'sent', 'failed'")
    await enqueue(db, item(), list(groups))
    stop = asyncio.Event()
    task = asyncio.create_task(ChannelSender(db, world.adapter, rate_per_s=0).run(stop))
    async with asyncio.timeout(WEDGE_TIMEOUT):
        while (await deliveries.status_counts(db)).get("sent") != 3:
            await asyncio.sleep(0.05)
    await asyncio.sleep(1.0)  # idle turns: nothing may release the stuck row to be sent again
    stop.set()
    await asyncio.wait_for(task, 10)  # and it does not keep the sender from stopping

    assert (await rows(db))[refused].status == "in_flight", "uncertain at the next start"
    assert [await world.copies(p) for p in groups.values()] == [1] * 4
