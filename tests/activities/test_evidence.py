"""Evidence for /baocao and /mohinh: a photo or document sent through the sandbox (Telegram's
own shapes: a PhotoSize list, a Document) is checked and kept by its file id."""

from __future__ import annotations

import asyncio
from pathlib import Path

from sqlmodel import col, select

from bot.services import evidence
from bot.storage.models import Evidence, ExemplaryModel
from tests.activities.conftest import staff
from tests.activities.test_reports import example_plans, reports, to_date  # noqa: F401
from tests.chatworld import World

PDF = "application/pdf"


async def kept(world: World) -> list[Evidence]:
    async with world.db.session() as session:
        return list((await session.exec(select(Evidence).order_by(col(Evidence.id)))).all())


async def sends(world: World, user: int, kind: str, **file: object) -> list[str]:
    await world.sandbox.send_file(user, user, kind, **file)  # type: ignore[arg-type]
    await world.pump()
    return await world.news(user)


async def test_a_report_in_progress_takes_a_photo_and_a_document(world: World) -> None:
    teacher = await staff(world, "Cô Lan", "teacher", "th-a-1a")
    await to_date(world, teacher)
    [report] = await reports(world)
    [saved] = await sends(world, teacher, "photo", size=250_000, caption="Hội trường")
    assert (
        saved
        == f"Đã lưu ảnh minh chứng cho báo cáo hoạt động số {report.id} (1 tệp). Gửi thêm nếu cần."
    )
    [saved] = await sends(
        world, teacher, "document", file_name="bien-ban.pdf", mime_type=PDF, size=90_000
    )
    assert saved.startswith("Đã lưu tài liệu minh chứng") and "(2 tệp)" in saved
    [too_big] = await sends(
        world, teacher, "document", file_name="x.pdf", mime_type=PDF, size=21 * 2**20
    )
    assert too_big == "Tệp quá lớn: tài liệu tối đa 20 MB. Bạn gửi tệp nhỏ hơn nhé."
    [wrong] = await sends(
        world, teacher, "document", file_name="a.exe", mime_type="application/x-msdownload", size=10
    )
    assert wrong.startswith("Loa chỉ nhận minh chứng là ảnh, hoặc tài liệu PDF")
    photo, document = await kept(world)
    assert (photo.kind, photo.activity_report_id, photo.size) == ("photo", report.id, 250_000)
    assert photo.file_id.startswith("AgAC") and photo.file_unique_id
    assert (document.file_name, document.mime_type) == ("bien-ban.pdf", PDF)
    # The report goes on where it was: the day is still asked.
    [ask] = await world.say(teacher, "1/10")
    assert "giáo viên" in ask


async def test_a_model_just_put_forward_takes_evidence(world: World) -> None:
    teacher = await staff(world, "Cô Lan", "teacher", "th-a-1a")
    await world.say(teacher, "/mohinh")
    await world.say(teacher, "Góc đọc sách")
    await world.say(teacher, "Mỗi lớp một góc sách")
    [saved] = await sends(world, teacher, "photo", size=1000)
    assert saved == "Đã lưu ảnh minh chứng cho mô hình «Góc đọc sách» (1 tệp). Gửi thêm nếu cần."
    async with world.db.session() as session:
        model = (await session.exec(select(ExemplaryModel))).one()
    [photo] = await kept(world)
    assert (photo.model_id, photo.activity_report_id) == (model.id, None)


async def test_a_file_with_nothing_to_attach_to_or_from_a_parent_is_refused(world: World) -> None:
    teacher = await staff(world, "Cô Lan", "teacher", "th-a-1a")
    parent = await world.person("Phụ huynh Hà")
    for someone in (teacher, parent):
        [refused] = await sends(world, someone, "photo", size=1000)
        assert refused.startswith("Loa nhận ảnh, tài liệu làm minh chứng khi bạn đang báo cáo")
    assert await kept(world) == []


async def test_evidence_is_downloaded_where_the_operator_asked(
    world: World, tmp_path: Path
) -> None:
    teacher = await staff(world, "Cô Lan", "teacher", "th-a-1a")
    await to_date(world, teacher)
    content = b"%PDF-1.4 bien ban hop"
    await world.sandbox.send_file(
        teacher, teacher, "document", file_name="../../etc/passwd", mime_type=PDF, data=content
    )
    await world.sandbox.send_file(teacher, teacher, "photo", data=b"\xff\xd8jpeg")
    await world.pump()
    sources = {"telegram": world.adapter}
    assert await evidence.download_pending(world.db, sources, tmp_path) == 2
    assert await evidence.download_pending(world.db, sources, tmp_path) == 0, "once"
    document, photo = await kept(world)
    assert document.stored_path is not None and photo.stored_path is not None
    assert await asyncio.to_thread(Path(document.stored_path).read_bytes) == content
    assert Path(document.stored_path).parent == tmp_path, "named by loa, not by the sender"
    assert Path(document.stored_path).suffix == ".pdf"
    assert await asyncio.to_thread(Path(photo.stored_path).read_bytes) == b"\xff\xd8jpeg"


async def test_a_download_that_fails_is_tried_again_later(world: World, tmp_path: Path) -> None:
    teacher = await staff(world, "Cô Lan", "teacher", "th-a-1a")
    await to_date(world, teacher)
    await world.sandbox.send_file(teacher, teacher, "photo", data=b"\xff\xd8jpeg")
    await world.pump()
    await world.sandbox.call("POST", "faults", {"method": "getFile", "status": 500, "count": 1})
    sources = {"telegram": world.adapter}
    assert await evidence.download_pending(world.db, sources, tmp_path) == 0
    [photo] = await kept(world)
    assert photo.stored_path is None
    assert await evidence.download_pending(world.db, sources, tmp_path) == 1
