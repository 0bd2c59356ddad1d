"""Evidence files for /baocao and /mohinh: a photo or document a teacher sends while reporting,
kept by its platform file id (the platform keeps the bytes; loa downloads nothing yet).

What it is attached to: the activity report of the /baocao in progress; else the person's own
report sent less than 24 h ago (still editable), or their own model put forward less than 24 h
ago and not yet decided — the most recent of these."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Final

from sqlalchemy import or_
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.domain import InboundFile
from bot.services import activities
from bot.storage.models import ActivityReport, Evidence, ExemplaryModel

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

