"""`loa bench report`: N interactions (deliveries and feedback) at a province's size — 200
schools, 10 groups each, several posts — and what the schools reported (a thematic session
each, half of them their plan, a model approved for every third), written with set-based
inserts into an empty database, then one quarterly report timed (everything the JSON report
computes); `--docx FILE` files that report too (what `make report-preview` draws)."""

from __future__ import annotations

import resource
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import func, insert, select, text
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.bench import _database
from bot.reports.period import parse_period
from bot.reports.report import Content, build_report
from bot.storage.db import Database
from bot.storage.models import (
    ActivityReport,
    Chat,
    Delivery,
    ExemplaryModel,
    FeedbackItem,
    Occurrence,
    Unit,
    table_of,
)
from content.plans import Plan

PERIOD = "2026-Q4"
SCHOOLS, GROUPS_PER_SCHOOL, CLASSES, MEMBERS = 200, 10, 8, 30
FEEDBACK_PER_DELIVERY = 12  # taps per group and post, below MEMBERS
FAILED, UNCERTAIN = 1 / 50, 1 / 200  # shares of the sends (see the deliveries' insert)
CAMPAIGN = "bench"
PLAN = Plan.model_validate(
    {
        "id": "bench",
        "title": "Kế hoạch tuyên truyền",
        "issuing_unit": "UBND phường",
        "period": {"start": 2026, "end": 2026},
        "targets": [
            {"metric": "briefed", "description": "100% cán bộ được quán triệt",
             "comparator": "=", "value": 100, "unit": "percent", "audience": "staff"},
            {"metric": "understood", "description": "Ít nhất 90% phụ huynh hiểu rõ",
             "comparator": ">=", "value": 90, "unit": "percent"},
            {"metric": "thematic_sessions", "description": "02 chuyên đề/năm",
             "comparator": ">=", "value": 2, "unit": "count", "per": "year"},
            {"metric": "plans_built", "description": "100% trường xây dựng kế hoạch",
             "comparator": "=", "value": 100, "unit": "percent", "per": "year"},
            {"metric": "exemplar_models", "description": "Mỗi trường ít nhất 01 mô hình",
             "comparator": ">=", "value": 1, "unit": "count", "per": "year"},
        ],
        "themes": ["Nội dung cốt lõi của Nghị quyết"],
    }
)  # fmt: skip


async def report(
    events: int, db_url: str | None = None, docx: Path | None = None
) -> dict[str, Any]:
    async with _database(db_url) as db:
        await _refuse_data(db)
        shape = _shape(events)
        await _generate(db, **shape)
        made = await _events(db)
        await _settle(db)
        period = parse_period(PERIOD)
        content = Content({PLAN.id: PLAN}, {CAMPAIGN: PLAN.id})
        errors = 0
        started = time.perf_counter()
        try:
            result = await build_report(db, period, content, now=period.end)
        except Exception:
            errors, result = 1, {}
        seconds = time.perf_counter() - started
        if docx is not None and result:
            await _file(db, result, docx)
    return {
        "bench": "report",
        "n": made,
        "events": made,
        "seconds": round(seconds, 3),
        "per_second": round(made / seconds) if seconds else None,
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        "errors": errors,
        "database": "sqlite" if db.is_sqlite else "postgresql",
        **shape,
        "engaged": result.get("totals", {}).get("engaged"),
        "feedback_items": result.get("feedback", {}).get("total"),
        "open_questions": result.get("open_questions", {}).get("open"),
    }


def _shape(events: int) -> dict[str, int]:
    """Schools, posts and taps per group that make about `events` interactions."""
    schools = max(1, min(SCHOOLS, events // (GROUPS_PER_SCHOOL * 400)))
    groups = schools * GROUPS_PER_SCHOOL
    tapped = (1 - FAILED - UNCERTAIN) * FEEDBACK_PER_DELIVERY  # per delivery
    posts = max(2, round(events / (groups * (1 + tapped))))
    deliveries = groups * posts
    taps = max(
        0, min(MEMBERS, round((events - deliveries) / deliveries / (1 - FAILED - UNCERTAIN)))
    )
    return {"schools": schools, "groups": groups, "posts": posts, "taps_per_group": taps}


async def _refuse_data(db: Database) -> None:
    async with db.reading() as conn:
        if (await conn.execute(select(func.count()).select_from(table_of(Delivery)))).scalar():
            raise SystemExit("loa: bench report needs an empty database (it writes one)")


def _numbers(n: int) -> str:
    """A recursive CTE of 0 … n-1 (SQLite and PostgreSQL alike)."""
    return f"WITH RECURSIVE n(j) AS (SELECT 0 UNION ALL SELECT j + 1 FROM n WHERE j < {n - 1}) "


async def _generate(
    db: Database, schools: int, groups: int, posts: int, taps_per_group: int
) -> None:
    start = datetime(2026, 10, 1, tzinfo=UTC)
    async with db.engine.begin() as conn:
        units, chats = table_of(Unit), table_of(Chat)
        await conn.execute(insert(units), [{"code": "ward", "name": "Phường", "kind": "ward"}])
        await conn.execute(
            insert(units),
            [
                {"code": f"s{s}", "name": f"Trường {s:03}", "kind": "school", "parent_id": 1}
                for s in range(schools)
            ],
        )
        await conn.execute(
            insert(units),
            [
                {"code": f"s{s}-c{c}", "name": f"Lớp {c}", "kind": "class", "parent_id": 2 + s}
                for s in range(schools)
                for c in range(CLASSES)
            ],
        )
        rows = []
        for s in range(schools):
            classes = [2 + schools + s * CLASSES + c for c in range(CLASSES)]
            for g, (unit, audience) in enumerate(
                [*((c, "parents") for c in classes), (2 + s, "staff"), (2 + s, "teachers")]
            ):
                rows.append(
                    {"platform": "telegram", "platform_chat_id": str(-(s * 100 + g + 1)),
                     "type": "group", "title": f"Nhóm {g}", "unit_id": unit,
                     "audience": audience, "member_count": MEMBERS, "created_at": start}
                )  # fmt: skip
        await conn.execute(insert(chats), rows)
        await conn.execute(
            text(
                _numbers(groups * MEMBERS)
                + "INSERT INTO people (platform, platform_user_id, display_name, created_at) "
                "SELECT 'telegram', CAST(j + 1 AS VARCHAR(64)), '', :at FROM n"
            ),
            {"at": start},
        )
        await conn.execute(
            insert(table_of(Occurrence)),
            [
                {"key": f"c:{CAMPAIGN}:p{i}", "title": f"Bài {i}", "text": "",
                 "buttons": _buttons(i),
                 "due_at": start + timedelta(days=1 + i * 80 / posts), "kind": _kind(i),
                 "meta": {"answer": 1, "options": ["a", "b", "c"]} if _kind(i) == "quiz" else {},
                 "source": f"campaign:{CAMPAIGN}/p{i}", "urgent": False, "created_at": start}
                for i in range(posts)
            ],
        )  # fmt: skip
        # 2% of sends failed, 0.5% uncertain; the rest sent to the group's members.
        await conn.execute(
            text(
                "INSERT INTO deliveries (occurrence_id, chat_id, platform, status, attempts, "
                "next_attempt_at, sent_at, audience_size, migrated) "
                "SELECT o.id, c.id, 'telegram', CASE WHEN (o.id + c.id) % 50 = 0 THEN 'failed' "
                "WHEN (o.id + c.id) % 200 = 1 THEN 'uncertain' ELSE 'sent' END, 1, o.due_at, "
                "o.due_at, c.member_count, false FROM occurrences o CROSS JOIN chats c"
            )
        )
        # Taps: member j of each group that got the post; one quiz answer in three right.
        await conn.execute(
            text(
                _numbers(taps_per_group)
                + "INSERT INTO feedback (occurrence_id, chat_id, person_id, kind, value, "
                "created_at) SELECT d.occurrence_id, d.chat_id, "
                f"(d.chat_id - 1) * {MEMBERS} + n.j + 1, "
                "CASE WHEN o.kind = 'quiz' THEN 'quiz' ELSE 'ack' END, "
                "CASE WHEN o.kind = 'quiz' THEN CAST((n.j + d.chat_id) % 3 AS VARCHAR(8)) END, "
                "o.due_at FROM deliveries d JOIN occurrences o ON o.id = d.occurrence_id "
                "CROSS JOIN n WHERE d.status = 'sent'"
            )
        )
        await _activities(conn, schools, start)
        await _voices(conn, schools, start)


async def _activities(conn: AsyncConnection, schools: int, start: datetime) -> None:
    """Every school held a thematic session of the plan in October; the even ones also built
    their plan; every third had a model approved in November."""
    reports = [
        {"unit_id": 2 + s, "kind": kind, "plan": PLAN.id, "theme": PLAN.themes[0],
         "held_on": date(2026, 10, 1 + s % 28), "participants": {"teachers": 20 + s % 30,
         "students": 300 + s}, "status": "sent", "sent_at": start, "created_at": start,
         "updated_at": start}
        for s in range(schools)
        for kind in ("thematic_session", "plan")[: 2 - s % 2]
    ]  # fmt: skip
    await conn.execute(insert(table_of(ActivityReport)), reports)
    models = [
        {"unit_id": 2 + s, "title": f"Mô hình {s:03}", "status": "approved",
         "decided_at": start + timedelta(days=31 + s % 28), "created_at": start}
        for s in range(0, schools, 3)
    ]  # fmt: skip
    await conn.execute(insert(table_of(ExemplaryModel)), models)


ITEMS_PER_SCHOOL = 100  # questions, suggestions and misinformation reports in the quarter
LABELS = [(c, s) for c in ("question", "suggestion", "complaint", "thanks", "other")
          for s in ("positive", "neutral", "negative")]  # fmt: skip


async def _voices(conn: AsyncConnection, schools: int, start: datetime) -> None:
    """ITEMS_PER_SCHOOL labelled feedback items a school over the quarter (report parts 3
    and 5): one in ten a misinformation report, one in five questions still open."""
    items = []
    for s in range(schools):
        for i in range(ITEMS_PER_SCHOOL):
            at = start + timedelta(minutes=(s * ITEMS_PER_SCHOOL + i) * 37 % (91 * 24 * 60))
            category, sentiment = LABELS[(s + i) % len(LABELS)]
            kind = "misinformation" if i % 10 == 0 else "question"
            items.append({
                "kind": kind, "unit_id": 2 + s, "text": f"Ý kiến số {i} của trường {s:03}",
                "status": "open" if i % 5 == 1 else "answered",
                "category": "misinformation" if kind == "misinformation" else category,
                "sentiment": sentiment, "classified_at": at, "created_at": at,
            })  # fmt: skip
    if items:
        await conn.execute(insert(table_of(FeedbackItem)), items)


async def _file(db: Database, result: dict[str, Any], path: Path) -> None:
    # Imported here: matplotlib would weigh on the peak RSS the benchmark reports.
    from bot.config import DEFAULT_CONTENT_DIR
    from bot.reports.docx import letterhead, write_docx
    from bot.reports.wording import report_wording

    head = await letterhead(db, None, None)
    words = report_wording(DEFAULT_CONTENT_DIR)
    write_docx(result, path, head, [PLAN.title], date(2027, 1, 5), words)


async def _settle(db: Database) -> None:
    """Statistics and (PostgreSQL) the visibility map, as autovacuum keeps them in a database
    in use: without it an index-only scan still reads every row it counts."""
    async with db.engine.connect() as conn:
        auto = await conn.execution_options(isolation_level="AUTOCOMMIT")
        await auto.execute(text("ANALYZE" if db.is_sqlite else "VACUUM ANALYZE"))


def _kind(i: int) -> str:
    return "quiz" if i % 2 else "resolution_summary"


def _buttons(i: int) -> list[dict[str, str]]:
    """The post's buttons; a fresh database numbers the occurrences from 1."""
    if _kind(i) == "quiz":
        return [{"label": o, "data": f"quiz:{i + 1}:{n}"} for n, o in enumerate("abc")]
    return [{"label": "Đã hiểu", "data": f"ack:{i + 1}"}]


async def _events(db: Database) -> int:
    async with db.reading() as conn:
        query = text("SELECT (SELECT count(*) FROM deliveries) + (SELECT count(*) FROM feedback)")
        return int((await conn.execute(query)).scalar_one())
