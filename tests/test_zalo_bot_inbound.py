"""What people send loa on Zalo Bot: by webhook (secret checked first) or polling, each event
handled once, numbers typed for the numbered replies (remembered across a restart, refused
kindly out of range), and messages Zalo hands over without content answered kindly."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from dataclasses import replace

import aiohttp
import pytest
from aiohttp.test_utils import TestServer
from sqlmodel import func, select

from bot.config import DEFAULT_CONTENT_DIR
from bot.delivery.sender import ChannelSender
from bot.dispatch import Dispatcher
from bot.domain import Button, Platform
from bot.inbox import Inbox
from bot.services import invites, privacy
from bot.services.broadcasts import Broadcast
from bot.storage.db import Database
from bot.storage.models import Chat, Delivery, Feedback, InboxUpdate, Person, RoleName
from bot.web import create_web_app
from content.templates import Templates
from handlers import build_router
from tests.channels import BOTS, Loa, TelegramTalk, ZaloBotTalk, grant, loa_on_every_platform
from tests.delivery.conftest import send_all
from tests.test_platforms_end_to_end import broadcast

SECRET = "zalo-webhook-secret"
HEADER = "X-Bot-Api-Secret-Token"


@pytest.fixture
async def loa(any_db: Database) -> AsyncIterator[Loa]:
    async with loa_on_every_platform(any_db) as running:
        yield running


async def count(loa: Loa, model: type) -> int:
    async with loa.db.session() as session:
        return int((await session.exec(select(func.count()).select_from(model))).one())


@contextlib.asynccontextmanager
async def _webhook(loa: Loa) -> AsyncIterator[str]:
    """loa's web app serving on a free port; yields its Zalo Bot webhook's URL."""
    app = create_web_app(inbox=loa.inbox, adapters=loa.adapters, webhook_secret=SECRET)
    async with TestServer(app, host="127.0.0.1") as server:
        yield f"http://127.0.0.1:{server.port}/webhook/zalo-bot"


async def test_webhook_checks_the_secret_first_and_handles_an_event_once(loa: Loa) -> None:
    talk = ZaloBotTalk(loa)
    _, chat = await talk.person("Trần Thị Bình")
    body = {
        "ok": True,
        "result": {
            "event_name": "message.text.received",
            "message": {
                "from": {"id": str(chat), "display_name": "Bình", "is_bot": False},
                "chat": {"id": str(chat), "chat_type": "PRIVATE"},
                "message_id": "abc123",
                "date": 1,
                "text": "trợ giúp",
            },
        },
    }
    before = await count(loa, InboxUpdate)
    async with _webhook(loa) as hook, aiohttp.ClientSession() as http:
        for headers in ({HEADER: "wrong-secret"}, {}):
            async with http.post(hook, json=body, headers=headers) as r:
                assert r.status == 403
        assert await count(loa, InboxUpdate) == before, "refused: nothing stored"
        for _ in range(2):  # Zalo sends it again: stored once
            async with http.post(hook, json=body, headers={HEADER: SECRET}) as r:
                assert r.status == 200
        async with http.post(hook, data=b"{not json", headers={HEADER: SECRET}) as r:
            assert r.status == 400
    assert await count(loa, InboxUpdate) == before + 1
    await loa.inbox.process_pending()
    [help_text] = await talk.news(chat)
    assert help_text.startswith("Hướng dẫn sử dụng")


async def test_the_sandbox_posts_to_loas_webhook(loa: Loa) -> None:
    talk = ZaloBotTalk(loa)
    user, chat = await talk.person("Trần Thị Bình")
    zalo = loa.adapters[Platform.ZALO_BOT]
    async with _webhook(loa) as hook:
        await zalo.set_webhook(hook, SECRET)
        before = await count(loa, InboxUpdate)
        await loa.sandbox.write(chat, user, "trợ giúp")
        for _ in range(100):
            if await count(loa, InboxUpdate) > before:
                break
            await asyncio.sleep(0.05)
        await loa.inbox.process_pending()
        assert (await talk.news(chat))[0].startswith("Hướng dẫn sử dụng")
        await zalo.delete_webhook()


async def test_a_message_without_content_is_answered_kindly_and_counts_as_nothing(
    loa: Loa,
) -> None:
    talk = ZaloBotTalk(loa)
    user, chat = await talk.person("Em Minh")
    messages = f"chats/{chat}/messages"
    await loa.sandbox.call("POST", messages, {"user_id": user, "kind": "unsupported"})
    await loa.pump()
    [answer] = await talk.news(chat)
    assert "không đọc được tin nhắn này" in answer and "dưới 18 tuổi" in answer
    assert await count(loa, Feedback) == 0
    await loa.sandbox.call("POST", messages, {"user_id": user, "kind": "sticker"})
    await loa.pump()
    assert await talk.news(chat) == [], "a sticker is nothing loa reads, as on Telegram"


async def test_numbers_out_of_range_and_after_a_restart(loa: Loa) -> None:
    talk = ZaloBotTalk(loa)
    lan, _ = await talk.person("Nguyễn Thị Lan")
    group = await talk.bound_group("Phụ huynh lớp 1A", "th-a-1a", "parents", [lan])
    options = ("Con sẽ tham gia", "Chưa tham gia được")
    await broadcast(
        loa,
        Broadcast(key="rsvp", title="CLB", text="Câu lạc bộ tiếng Anh",
                  buttons=tuple(Button(o, f"rsvp:{{occurrence}}:{i}") for i, o in
                                enumerate(options)),
                  kind="club_notice", meta={"options": list(options)}),
        [group], Platform.ZALO_BOT,
    )  # fmt: skip
    await talk.news(group)
    [refusal] = await talk.say(group, lan, "3")
    assert refusal == "Không có lựa chọn số 3. Vui lòng trả lời bằng một số từ 1 đến 2."
    assert await count(loa, Feedback) == 0
    # loa restarts: the numbers shown are in the database, not in memory
    dispatcher = Dispatcher(
        build_router(), db=loa.db, templates=Templates(DEFAULT_CONTENT_DIR / "templates")
    )
    restarted = replace(loa, inbox=Inbox(loa.db, loa.adapters, dispatcher))
    [thanks] = await ZaloBotTalk(restarted, _seen=dict(talk._seen)).say(group, lan, "2.")
    assert thanks.startswith("Cảm ơn")
    async with loa.db.session() as session:
        [answer] = (await session.exec(select(Feedback))).all()
    assert (answer.kind, answer.value) == ("rsvp", "1")


async def test_a_personal_code_typed_on_zalo_links_the_same_person(loa: Loa) -> None:
    telegram, zalo = TelegramTalk(loa), ZaloBotTalk(loa)
    ward = await loa.unit("phuong-a")
    async with loa.db.session() as session:
        _, code = await invites.create(session, RoleName.OFFICIAL, ward, None)
        _, other = await invites.create(session, RoleName.OFFICIAL, ward, None)
        await session.commit()
    lan_tg, _ = await telegram.person("Cô Lan")
    [joined] = await telegram.say(lan_tg, lan_tg, code)
    assert joined.startswith("Chào mừng bạn!")
    lan_zalo, private = await zalo.person("Cô Lan")
    [linked] = await zalo.say(private, lan_zalo, code.lower())
    assert linked.startswith("Đã liên kết!") and "cán bộ phường/xã – Phường A" in linked
    stranger, strangers_chat = await zalo.person("Người lạ")
    [refused] = await zalo.say(strangers_chat, stranger, other)
    assert refused.startswith("Chào mừng"), "an unused code is redeemed, not linked"

    # One post in her Telegram group and her Zalo group: she is one person, answering once.
    tg_group = await telegram.bound_group("Cán bộ phường", "phuong-a", "staff", [lan_tg])
    zalo_group = await zalo.bound_group("Cán bộ phường (Zalo)", "phuong-a", "staff", [lan_zalo])
    item = Broadcast(key="brief", title="Tóm tắt", text="Nghị quyết 71",
                     buttons=(Button("Đã hiểu", "ack:{occurrence}"),))  # fmt: skip
    occurrence = await broadcast(loa, item, [tg_group], Platform.TELEGRAM)
    async with loa.db.session() as session:
        [zalo_chat] = (
            await session.exec(select(Chat.id).where(Chat.platform_chat_id == str(zalo_group)))
        ).all()
    assert zalo_chat is not None
    await enqueue_more(loa, occurrence, zalo_chat)
    await telegram.news(tg_group)
    await zalo.news(zalo_group)
    assert any(s.startswith("Cảm ơn") for s in await telegram.choose(tg_group, lan_tg, "Đã hiểu"))
    again = await zalo.choose(zalo_group, lan_zalo, "Đã hiểu")
    assert again and not any(s.startswith("Cảm ơn") for s in again), "already counted"
    async with loa.db.session() as session:
        people = {f.person_id for f in (await session.exec(select(Feedback))).all()}
        mine = select(Person).where(Person.platform_user_id == zalo.platform_id(lan_zalo))
        zalo_person = (await session.exec(mine)).one()
    assert people == {zalo_person.linked_to}
    # Erasing her Telegram account leaves the Zalo one, on its own.
    assert await privacy.erase(loa.db, Platform.TELEGRAM, str(lan_tg))
    async with loa.db.session() as session:
        left = await session.get(Person, zalo_person.id)
    assert left is not None and left.linked_to is None


async def enqueue_more(loa: Loa, occurrence: int, chat: int) -> None:
    """The same post to one more chat (as a campaign reaching a new group), then sent."""
    async with loa.db.session() as session:
        session.add(Delivery(occurrence_id=occurrence, chat_id=chat, platform="zalo_bot"))
        await session.commit()
    sender = ChannelSender(loa.db, loa.adapters[Platform.ZALO_BOT], rate_per_s=0)
    await send_all(sender, loa.db)


async def test_a_teacher_binds_a_zalo_group_with_ganhom_and_numbers(loa: Loa) -> None:
    zalo = ZaloBotTalk(loa)
    teacher, _ = await zalo.person("Cô Hoa")
    await grant(loa, zalo, teacher, "teacher", "th-a")
    parent, _ = await zalo.person("Phụ huynh An")
    group = await loa.sandbox.create_chat(
        "Nhóm Zalo lớp 1A", platform="zalo_bot", members=[teacher, parent, BOTS[zalo.platform]]
    )
    assert await zalo.say(group, parent, "/ganhom") == [], "a parent may not bind: nothing said"
    [prompt] = await zalo.say(group, teacher, "/ganhom")
    assert "Nhóm này thuộc đơn vị nào?" in prompt
    whole = next(o for o in await zalo.options(group) if o.startswith("Cả "))
    [audience] = await zalo.choose(group, teacher, whole)
    assert "1. Phụ huynh" in audience
    [done] = await zalo.choose(group, teacher, "Phụ huynh")
    assert done.startswith("Đã gắn nhóm với") and "thành viên" not in done, "no member count"
    async with loa.db.session() as session:
        chat = (await session.exec(select(Chat).where(Chat.platform_chat_id == str(group)))).one()
    assert (chat.platform, chat.audience, chat.member_count) == ("zalo_bot", "parents", None)
    assert chat.unit_id == await loa.unit("th-a")
    [already] = await zalo.say(group, teacher, "/ganhom")
    assert already.startswith("Nhóm này đã được gắn với")


async def test_a_long_post_is_one_delivery_in_parts_and_its_numbers_work(loa: Loa) -> None:
    zalo = ZaloBotTalk(loa)
    lan, _ = await zalo.person("Nguyễn Thị Lan")
    group = await zalo.bound_group("Phụ huynh lớp 1A", "th-a-1a", "parents", [lan])
    long_text = "\n\n".join(f"<b>Phần {n}</b>: " + "nội dung nghị quyết " * 40 for n in range(6))
    item = Broadcast(key="long", title="Dài", text=long_text,
                     buttons=(Button("Đã hiểu", "ack:{occurrence}"),))  # fmt: skip
    await broadcast(loa, item, [group], Platform.ZALO_BOT)
    parts = await zalo.news(group)
    assert len(parts) >= 2 and all(len(p) <= 2000 for p in parts)
    assert parts[-1].endswith("Trả lời 1 nếu đã hiểu.")
    async with loa.db.session() as session:
        [delivery] = (await session.exec(select(Delivery))).all()
    assert delivery.status == "sent", "one delivery, whatever the parts"
    [thanks] = await zalo.choose(group, lan, "Đã hiểu")
    assert thanks.startswith("Cảm ơn Nguyễn Thị Lan")
