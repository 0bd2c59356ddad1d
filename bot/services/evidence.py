"""Evidence files for /baocao and /mohinh: a photo or document a teacher sends while reporting,
kept by its platform file id; with LOA_EVIDENCE_DIR set, a background task downloads each one
there (`run`), outside any handler, named by loa (never by the sender's file name).

What it is attached to: the activity report of the /baocao in progress; else the person's own
report sent less than 24 h ago (still editable), or their own model put forward less than 24 h
ago and not yet decided — the most recent of these."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Final, Protocol, runtime_checkable

from sqlalchemy import or_
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.domain import InboundFile
from bot.services import activities
from bot.storage.db import Database
from bot.storage.models import ActivityReport, Evidence, ExemplaryModel

log = logging.getLogger(__name__)

MAX_PHOTO: Final = 10 * 1024 * 1024  # Telegram's own limit for a photo
MAX_DOCUMENT: Final = 20 * 1024 * 1024  # the most a bot may download through the Bot API
MAX_PER_ITEM: Final = 10
DOCUMENTS: Final = frozenset(
    {
        "application/pdf",
        "application/msword",
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        "application/vnd.ms-excel",
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        "application/vnd.ms-powerpoint",
        "application/vnd.openxmlformats-officedocument.presentationml.presentation",
        "image/jpeg",
        "image/png",
    }
)
RECENT: Final = timedelta(hours=24)


@dataclass(frozen=True)
class Target:
    """What a file is evidence of: a report or a model (one of the two ids), and its name."""

    report: int | None
    model: int | None
    title: str


def refusal(file: InboundFile) -> str | None:
    """Why a file cannot be evidence ("type", "size"), or None."""
    if file.kind == "photo":
        return "size" if (file.size or 0) > MAX_PHOTO else None
    if file.mime_type not in DOCUMENTS:
        return "type"
    return "size" if (file.size or 0) > MAX_DOCUMENT else None


async def target(
    session: AsyncSession, person_id: int, report_in_progress: int | None, now: datetime
) -> Target | None:
    if report_in_progress is not None:
        report = await session.get(ActivityReport, report_in_progress)
        if report is not None and report.person_id == person_id:
            return Target(report.id, None, f"báo cáo hoạt động số {report.id}")
    report = (
        await session.exec(
            select(ActivityReport)
            .where(
                ActivityReport.person_id == person_id,
                ActivityReport.status == activities.SENT,
                col(ActivityReport.sent_at) > now - activities.EDITABLE,
            )
            .order_by(col(ActivityReport.sent_at).desc())
        )
    ).first()
    model = (
        await session.exec(
            select(ExemplaryModel)
            .where(
                ExemplaryModel.person_id == person_id,
                or_(
                    col(ExemplaryModel.status) == activities.PENDING,
                    col(ExemplaryModel.status) == "draft",
                ),
                col(ExemplaryModel.created_at) > now - RECENT,
            )
            .order_by(col(ExemplaryModel.created_at).desc())
        )
    ).first()
    if model is not None and (
        report is None or report.sent_at is None or model.created_at > report.sent_at
    ):
        return Target(None, model.id, f"mô hình «{model.title}»")
    if report is not None:
        return Target(report.id, None, f"báo cáo hoạt động số {report.id}")
    return None


async def attach(
    session: AsyncSession, person_id: int, platform: str, file: InboundFile, to: Target
) -> int | None:
    """Keep `file` as evidence of `to`; how many it now has, or None past MAX_PER_ITEM (or
    when the same file is sent twice: counted once). Commits."""
    where = (
        Evidence.activity_report_id == to.report
        if to.report is not None
        else Evidence.model_id == to.model
    )
    kept = (await session.exec(select(Evidence.file_unique_id).where(where))).all()
    if file.file_unique_id in kept:
        return len(kept)
    if len(kept) >= MAX_PER_ITEM:
        return None
    session.add(
        Evidence(
            person_id=person_id,
            activity_report_id=to.report,
            model_id=to.model,
            platform=platform,
            kind=file.kind,
            file_id=file.file_id[:255],
            file_unique_id=file.file_unique_id[:64],
            mime_type=(file.mime_type or "")[:100] or None,
            size=file.size,
            file_name=(file.name or "")[:255] or None,
        )
    )
    await session.commit()
    return len(kept) + 1


@runtime_checkable
class FileSource(Protocol):
    """What downloads a file a person sent on one platform (TelegramAdapter.download)."""

    async def download(self, file_id: str) -> bytes: ...


_SUFFIX: Final = {
    "application/pdf": ".pdf",
    "application/msword": ".doc",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": ".docx",
    "application/vnd.ms-excel": ".xls",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": ".xlsx",
    "application/vnd.ms-powerpoint": ".ppt",
    "application/vnd.openxmlformats-officedocument.presentationml.presentation": ".pptx",
    "image/jpeg": ".jpg",
    "image/png": ".png",
}


def file_name(item: Evidence) -> str:
    """loa's name for a downloaded file: its id and the platform's unique id, and a suffix
    from its type (a photo is a JPEG on Telegram)."""
    suffix = ".jpg" if item.kind == "photo" else _SUFFIX.get(item.mime_type or "", ".bin")
    unique = "".join(c for c in item.file_unique_id if c.isalnum() or c in "-_")[:64]
    return f"{item.id}-{unique}{suffix}"


async def download_pending(
    db: Database, sources: Mapping[str, FileSource], folder: Path, batch: int = 20
) -> int:
    """Download the evidence not downloaded yet into `folder`; how many were. A file that
    fails is tried again on the next run."""
    async with db.session() as session:
        waiting = (
            await session.exec(
                select(Evidence)
                .where(col(Evidence.stored_path).is_(None), col(Evidence.platform).in_(sources))
                .order_by(col(Evidence.id))
                .limit(batch)
            )
        ).all()
    done = 0
    for item in waiting:
        try:
            data = await sources[item.platform].download(item.file_id)
        except Exception as e:  # gone, too big, the platform away: next run
            log.warning("evidence %s: download failed (%s)", item.id, type(e).__name__)
            continue
        path = folder / file_name(item)
        await asyncio.to_thread(path.write_bytes, data)
        async with db.session() as session:
            row = await session.get(Evidence, item.id)
            if row is not None:
                row.stored_path = str(path)
                session.add(row)
                await session.commit()
        done += 1
    return done


async def run(
    db: Database,
    sources: Mapping[str, FileSource],
    folder: Path,
    stop: asyncio.Event,
    every: float = 30.0,
) -> None:
    """Download new evidence every `every` seconds until `stop`."""
    while not stop.is_set():
        try:
            await download_pending(db, sources, folder)
        except Exception as e:  # the database is away: next round
            log.warning("evidence downloads failed: %s", type(e).__name__)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), every)
