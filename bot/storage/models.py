"""Tables. Datetimes are timezone-aware and stored in UTC; show them in LOA_TIMEZONE."""

from __future__ import annotations

from datetime import UTC, date, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, Column, Index, Table, UniqueConstraint, text
from sqlmodel import Field, SQLModel


def utcnow() -> datetime:
    return datetime.now(UTC)


class Unit(SQLModel, table=True):
    """A ward/commune, department, school, class or residential group."""

    __tablename__ = "units"
    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(unique=True, max_length=64)
    name: str = Field(max_length=200)
    kind: str = Field(max_length=32)  # ward, department, school, class, residential_group
    level: str | None = Field(default=None, max_length=16)  # schools: mam_non, tieu_hoc, thcs
    parent_id: int | None = Field(default=None, foreign_key="units.id", index=True)
    # "file": kept by units.yaml (gone from the file → inactive); "chat": added by an official
    source: str = Field(default="file", max_length=8)
    active: bool = True


class Chat(SQLModel, table=True):
    """A Telegram/Zalo group or private chat, bound (or not yet) to a unit and an audience."""

    __tablename__ = "chats"
    __table_args__ = (UniqueConstraint("platform", "platform_chat_id"),)
    id: int | None = Field(default=None, primary_key=True)
    platform: str = Field(max_length=16)
    platform_chat_id: str = Field(max_length=64)
    type: str = Field(max_length=16)  # private | group
    title: str = Field(default="", max_length=255)
    unit_id: int | None = Field(default=None, foreign_key="units.id", index=True)
    audience: str | None = Field(default=None, max_length=32)  # parents, teachers, staff, ...
    active: bool = True
    member_count: int | None = None
    member_count_at: datetime | None = None
    added_by: int | None = Field(default=None, foreign_key="people.id")  # who added the bot
    bound_by: int | None = Field(default=None, foreign_key="people.id")
    bound_at: datetime | None = None
    created_at: datetime = Field(default_factory=utcnow)


class Occurrence(SQLModel, table=True):
    """One scheduled firing of a post: what goes out, once, to a set of chats.

    `key` is stable for the post and its due time, so a double fire, a catch-up or a manual
    re-run finds the same row instead of making a second one.
    """

    __tablename__ = "occurrences"
    id: int | None = Field(default=None, primary_key=True)
    key: str = Field(unique=True, max_length=200)
    title: str = Field(max_length=255)
    text: str  # Telegram-HTML subset; adapters convert
    buttons: list[dict[str, str]] = Field(default_factory=list, sa_column=Column(JSON))
    due_at: datetime = Field(index=True)  # reports select a period's occurrences
    valid_until: datetime | None = None
    urgent: bool = False  # may pass parents' quiet hours
    kind: str | None = Field(default=None, max_length=32)  # the post's kind: quiz, reminder, ...
    # What answers mean: {"answer": 1, "options": [...]} for a quiz, {"options": [...]} for RSVP
    meta: dict[str, Any] = Field(
        default_factory=dict, sa_column=Column(JSON, nullable=False, server_default="{}")
    )
    source: str | None = Field(default=None, max_length=200)  # campaign/post, announcement:id
    missed_at: datetime | None = None  # its time passed beyond the misfire grace: not sent
    created_at: datetime = Field(default_factory=utcnow)


class DeliveryStatus(StrEnum):
    PENDING = "pending"
    IN_FLIGHT = "in_flight"
    SENT = "sent"
    RETRY_WAIT = "retry_wait"
    FAILED = "failed"
    UNCERTAIN = "uncertain"
    EXPIRED = "expired"


# Written out, not bound: a partial index serves a query only when the planner can see that
# the query's condition implies the index's.
WAITING = "status IN ('pending', 'retry_wait')"


class Delivery(SQLModel, table=True):
    """The outbox: one row per (occurrence, chat). Only bot.storage.deliveries moves `status`."""

    __tablename__ = "deliveries"
    __table_args__ = (
        UniqueConstraint("occurrence_id", "chat_id"),
        # Only waiting rows, in claim order: the claim reads the first few entries and never
        # sorts, however many sent rows the table holds.
        Index(
            "ix_deliveries_due",
            "platform",
            "next_attempt_at",
            "id",
            sqlite_where=text(WAITING),
            postgresql_where=text(WAITING),
        ),
    )
    id: int | None = Field(default=None, primary_key=True)
    occurrence_id: int = Field(foreign_key="occurrences.id", index=True)
    chat_id: int = Field(foreign_key="chats.id", index=True)
    platform: str = Field(max_length=16)  # copied from the chat: the sender claims per channel
    status: str = Field(default=DeliveryStatus.PENDING, max_length=16)
    attempts: int = 0
    next_attempt_at: datetime = Field(default_factory=utcnow)
    claimed_at: datetime | None = None
    claimed_by: str | None = Field(default=None, max_length=32)  # the sender that holds it
    sent_at: datetime | None = None
    platform_message_id: str | None = Field(default=None, max_length=64)
    audience_size: int | None = None  # the chat's member count when it was sent
    error: str | None = Field(default=None, max_length=500)  # reason, never message text
    migrated: bool = False


class InboxUpdate(SQLModel, table=True):
    """A raw inbound update, persisted before it is acknowledged; handled once."""

    __tablename__ = "inbox"
    __table_args__ = (
        UniqueConstraint("platform", "key"),
        Index("ix_inbox_unhandled", "handled_at", "id"),
    )
    id: int | None = Field(default=None, primary_key=True)
    platform: str = Field(max_length=16)
    key: str = Field(max_length=128)
    payload: dict[str, Any] = Field(sa_column=Column(JSON, nullable=False))
    received_at: datetime = Field(default_factory=utcnow)
    handled_at: datetime | None = None
    attempts: int = 0
    error: str | None = Field(default=None, max_length=500)


class NumberedReplies(SQLModel, table=True):
    """The buttons loa last showed in a chat as numbered replies (platforms without buttons):
    a person typing "2" there means the second. In a private chat the numbers hold only while
    they are on loa's latest message (`latest`); in a group, until other numbers replace them."""

    __tablename__ = "numbered_replies"
    platform: str = Field(primary_key=True, max_length=16)
    chat_id: str = Field(primary_key=True, max_length=64)  # the platform's chat id
    message_id: str = Field(max_length=64)
    buttons: list[dict[str, str]] = Field(sa_column=Column(JSON, nullable=False))
    latest: bool = True
    shown_at: datetime = Field(default_factory=utcnow)


class Person(SQLModel, table=True):
    """Someone loa has met on a platform. Kept to the minimum: id, display name, roles.
    /xoadulieu deletes the row; what referred to it keeps only anonymous counts."""

    __tablename__ = "people"
    __table_args__ = (UniqueConstraint("platform", "platform_user_id"),)
    id: int | None = Field(default=None, primary_key=True)
    platform: str = Field(max_length=16)
    platform_user_id: str = Field(max_length=64)
    display_name: str = Field(default="", max_length=255)
    notice_at: datetime | None = None  # when the privacy notice was shown
    # The same person on another platform, who linked this account by typing their personal
    # invite code here: loa treats both accounts as that one person (bot.services.people).
    linked_to: int | None = Field(default=None, foreign_key="people.id", index=True)
    created_at: datetime = Field(default_factory=utcnow)


class Throttle(SQLModel, table=True):
    """Wrong tries (of an invite code) by one person within a window. Not on `people`, so
    erasing oneself does not reset it; keyed by a keyed hash of who and what, never the id.
    A row is deleted once its window is over."""

    __tablename__ = "throttles"
    key: str = Field(primary_key=True, max_length=64)  # HMAC-SHA256 hex (bot.storage.db)
    count: int = 0
    since: datetime = Field(index=True)  # the window's start: the first wrong try


class Secret(SQLModel, table=True):
    """Random keys made once per installation (the throttles' hash key)."""

    __tablename__ = "secrets"
    name: str = Field(primary_key=True, max_length=32)
    value: str = Field(max_length=128)


class RoleName(StrEnum):
    OFFICIAL = "official"
    SCHOOL_ADMIN = "school_admin"
    TEACHER = "teacher"
    PARENT = "parent"
    COMMUNITY = "community"


class Role(SQLModel, table=True):
    """A person's role in a unit. One person may hold several (a teacher who is a parent)."""

    __tablename__ = "roles"
    __table_args__ = (UniqueConstraint("person_id", "role", "unit_id"),)
    id: int | None = Field(default=None, primary_key=True)
    person_id: int = Field(foreign_key="people.id", index=True)
    role: str = Field(max_length=16)
    unit_id: int = Field(foreign_key="units.id", index=True)
    invite_id: int | None = Field(default=None, foreign_key="invites.id")
    granted_at: datetime = Field(default_factory=utcnow)


class Invite(SQLModel, table=True):
    """An invite code for a role in a unit. Only the code's SHA-256 is kept: a copy of the
    database does not hold codes anyone could use."""

    __tablename__ = "invites"
    id: int | None = Field(default=None, primary_key=True)
    code_hash: str = Field(unique=True, max_length=64)
    role: str = Field(max_length=16)
    unit_id: int = Field(foreign_key="units.id")
    created_by: int | None = Field(default=None, foreign_key="people.id", index=True)
    created_at: datetime = Field(default_factory=utcnow)
    expires_at: datetime
    max_uses: int = 1
    uses: int = 0
    revoked_at: datetime | None = None


class Conversation(SQLModel, table=True):
    """Where a person is in a multi-step flow in private chat (composing an announcement)."""

    __tablename__ = "conversations"
    person_id: int = Field(foreign_key="people.id", primary_key=True)
    flow: str = Field(max_length=32)
    state: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    updated_at: datetime = Field(default_factory=utcnow)


class AnnouncementStatus(StrEnum):
    """Moved only by bot/services/announcements.py."""

    DRAFT = "draft"
    PENDING = "pending"  # submitted, waiting for another official's decision
    APPROVED = "approved"  # enqueued (or about to be): sending
    REJECTED = "rejected"
    CANCELLED = "cancelled"  # withdrawn by its author before a decision
    SENT = "sent"  # every delivery finished


class Announcement(SQLModel, table=True):
    """An official's announcement: composed, approved by a second official, then enqueued."""

    __tablename__ = "announcements"
    id: int | None = Field(default=None, primary_key=True)
    author_id: int | None = Field(default=None, foreign_key="people.id")
    text: str  # Telegram-HTML subset, escaped from what the official wrote
    audiences: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    unit_ids: list[int] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    urgent: bool = False
    due_at: datetime | None = None  # None: as soon as it is approved
    status: str = Field(default=AnnouncementStatus.DRAFT, max_length=16)  # AnnouncementStatus
    approved_by: int | None = Field(default=None, foreign_key="people.id")
    approved_at: datetime | None = None
    occurrence_id: int | None = Field(default=None, foreign_key="occurrences.id")
    progress_chat: str | None = Field(default=None, max_length=64)  # platform chat id
    progress_message: str | None = Field(default=None, max_length=64)
    created_at: datetime = Field(default_factory=utcnow)


class Task(SQLModel, table=True):
    """A "06 rõ" duty from a plan: who, what, by when, what result; reminded, answered."""

    __tablename__ = "tasks"
    id: int | None = Field(default=None, primary_key=True)
    key: str = Field(unique=True, max_length=200)  # plan id + duty index: stable across loads
    plan: str = Field(max_length=64)
    title: str
    owner_unit_id: int | None = Field(default=None, foreign_key="units.id")
    deadline: datetime | None = None
    expected_result: str = ""
    reminded_at: datetime | None = None


class TaskStatus(StrEnum):
    """What a tap on a task reminder answers."""

    DONE = "done"
    DOING = "doing"
    BLOCKED = "blocked"


class TaskAnswer(SQLModel, table=True):
    """One answer to a task: every answer is kept, the latest is the task's result."""

    __tablename__ = "task_answers"
    id: int | None = Field(default=None, primary_key=True)
    task_id: int = Field(foreign_key="tasks.id", index=True)
    person_id: int | None = Field(default=None, foreign_key="people.id", index=True)
    status: str = Field(max_length=16)  # a TaskStatus
    details: str | None = None  # free text, dropped after the free-text retention
    answered_at: datetime = Field(default_factory=utcnow)


class ActivityReport(SQLModel, table=True):
    """What a school (or ward) did for a plan, reported by its staff with /baocao."""

    __tablename__ = "activity_reports"
    id: int | None = Field(default=None, primary_key=True)
    unit_id: int = Field(foreign_key="units.id", index=True)  # from the reporter's role
    person_id: int | None = Field(default=None, foreign_key="people.id", index=True)
    kind: str | None = Field(default=None, max_length=32)  # bot.services.activities.KINDS
    plan: str | None = Field(default=None, max_length=64)  # a plan id; None: another plan
    theme: str | None = None  # one of the plan's themes; None: another theme
    held_on: date | None = None  # local day
    participants: dict[str, int] = Field(
        default_factory=dict, sa_column=Column(JSON, nullable=False)
    )  # audience → people
    notes: str | None = None  # free text, dropped after the free-text retention
    # The classifier's labels on `notes`, set when the report is sent (bot/services/labels.py).
    category: str | None = Field(default=None, max_length=16)
    sentiment: str | None = Field(default=None, max_length=16)
    classified_at: datetime | None = None
    status: str = Field(default="draft", max_length=16)  # draft | sent
    sent_at: datetime | None = None
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)


class ExemplaryModel(SQLModel, table=True):
    """A school's exemplary model (mô hình điển hình), proposed with /mohinh and decided by an
    official of the ward; approved ones count towards the plans' targets."""

    __tablename__ = "exemplary_models"
    id: int | None = Field(default=None, primary_key=True)
    unit_id: int | None = Field(default=None, foreign_key="units.id", index=True)
    person_id: int | None = Field(default=None, foreign_key="people.id", index=True)
    title: str = Field(default="", max_length=255)
    description: str = ""
    status: str = Field(default="draft", max_length=16)  # draft | pending | approved | rejected
    decided_by: int | None = Field(default=None, foreign_key="people.id")
    decided_at: datetime | None = None
    reason: str | None = None  # why it was not approved
    created_at: datetime = Field(default_factory=utcnow)


class Feedback(SQLModel, table=True):
    """An answer to a post: ack (Đã hiểu), quiz answer, RSVP, question, report."""

    __tablename__ = "feedback"
    __table_args__ = (
        UniqueConstraint("occurrence_id", "person_id", "kind"),
        # Covers reach's count of people per post and group (bot/services/reach.py).
        Index("ix_feedback_figures", "occurrence_id", "chat_id", "person_id", "kind", "value"),
    )
    id: int | None = Field(default=None, primary_key=True)
    occurrence_id: int = Field(foreign_key="occurrences.id", index=True)
    chat_id: int | None = Field(default=None, foreign_key="chats.id")
    person_id: int | None = Field(default=None, foreign_key="people.id")
    kind: str = Field(max_length=16)
    value: str | None = Field(default=None, max_length=500)
    created_at: datetime = Field(default_factory=utcnow)


class ItemKind(StrEnum):
    QUESTION = "question"  # a question or suggestion to a school
    MISINFORMATION = "misinformation"  # a «báo tin sai» report to officials


class ItemStatus(StrEnum):
    """Moved only by bot/services/questions.py and bot/services/misinformation.py."""

    OPEN = "open"
    ANSWERED = "answered"  # a question answered; a report clarified to its chat
    HANDLED = "handled"  # marked «đã xử lý» without an answer, with a reason


class FeedbackItem(SQLModel, table=True):
    """Free text people send loa: questions, suggestions and misinformation reports, with what
    staff answered. The one place a classifier reads and labels (`category`, `sentiment`)."""

    __tablename__ = "feedback_items"
    __table_args__ = (Index("ix_feedback_items_open", "status", "kind", "created_at"),)
    id: int | None = Field(default=None, primary_key=True)
    kind: str = Field(max_length=16)  # ItemKind
    person_id: int | None = Field(default=None, foreign_key="people.id", index=True)
    chat_id: int | None = Field(default=None, foreign_key="chats.id")  # where it was written
    message_id: str | None = Field(default=None, max_length=64)  # there, to reply to it
    unit_id: int | None = Field(default=None, foreign_key="units.id", index=True)  # whose
    text: str | None = None  # free text, dropped after the free-text retention
    reported_text: str | None = None  # the message a misinformation report points at
    status: str = Field(default=ItemStatus.OPEN, max_length=16)  # ItemStatus
    answer: str | None = None  # the staff's answer or clarification; or why it was handled
    answered_by: int | None = Field(default=None, foreign_key="people.id")
    answered_at: datetime | None = None
    occurrence_id: int | None = Field(default=None, foreign_key="occurrences.id")  # clarification
    reminded_at: datetime | None = None  # the school was reminded (48 h)
    escalated_at: datetime | None = None  # officials were shown it (96 h)
    category: str | None = Field(default=None, max_length=16)  # set by the classifier
    sentiment: str | None = Field(default=None, max_length=16)
    classified_at: datetime | None = None
    created_at: datetime = Field(default_factory=utcnow)


class Evidence(SQLModel, table=True):
    """A photo or document sent as evidence of an activity report (/baocao) or an exemplary
    model (/mohinh), kept by its platform file id; `stored_path` once downloaded."""

    __tablename__ = "evidence"
    id: int | None = Field(default=None, primary_key=True)
    person_id: int | None = Field(default=None, foreign_key="people.id", index=True)
    activity_report_id: int | None = Field(
        default=None, foreign_key="activity_reports.id", index=True
    )
    model_id: int | None = Field(default=None, foreign_key="exemplary_models.id", index=True)
    platform: str = Field(max_length=16)
    kind: str = Field(max_length=16)  # photo | document
    file_id: str = Field(max_length=255)
    file_unique_id: str = Field(max_length=64)
    mime_type: str | None = Field(default=None, max_length=100)
    size: int | None = None
    file_name: str | None = Field(default=None, max_length=255)
    stored_path: str | None = Field(default=None, max_length=500)
    created_at: datetime = Field(default_factory=utcnow)


class CampaignSeen(SQLModel, table=True):
    """When this database first loaded a campaign: its occurrences due before then were not
    missed (loa was not running them yet), they are history."""

    __tablename__ = "campaigns_seen"
    campaign: str = Field(primary_key=True, max_length=64)
    first_seen_at: datetime


class Lease(SQLModel, table=True):
    """Who may do a thing only one process should do (run the scheduler), and until when."""

    __tablename__ = "leases"
    name: str = Field(primary_key=True, max_length=64)
    holder: str = Field(max_length=64)
    expires_at: datetime


class ZaloOaToken(SQLModel, table=True):
    """The Zalo OA's tokens, one row per app. A refresh token is single-use: the new one is
    stored (committed) before the new access token is used (bot/services/zalo_oa_tokens.py)."""

    __tablename__ = "zalo_oa_tokens"
    app_id: str = Field(primary_key=True, max_length=64)
    refresh_token: str = Field(max_length=1024)
    access_token: str | None = Field(default=None, max_length=1024)
    access_expires_at: datetime | None = None
    refreshing_since: datetime | None = None  # a refresh was asked for and not yet stored
    updated_at: datetime = Field(default_factory=utcnow)


class ZaloOaFollower(SQLModel, table=True):
    """What the OA's message rules need to know about one follower: when they last wrote
    (consultation window) and what was sent since."""

    __tablename__ = "zalo_oa_followers"
    user_id: str = Field(primary_key=True, max_length=64)
    last_interaction_at: datetime | None = None
    cs_since_interaction: int = 0
    followed: bool = True


class ZaloOaPromotion(SQLModel, table=True):
    """One promotion message sent to one follower (≤1 a day, a monthly cap per follower)."""

    __tablename__ = "zalo_oa_promotions"
    __table_args__ = (Index("ix_zalo_oa_promotions_user", "user_id", "sent_at"),)
    id: int | None = Field(default=None, primary_key=True)
    user_id: str = Field(max_length=64)
    sent_at: datetime


class ZaloOaFlag(SQLModel, table=True):
    """An item whose Zalo OA copies wait for quota; `flagged_at` once officials were told."""

    __tablename__ = "zalo_oa_flags"
    occurrence_id: int = Field(foreign_key="occurrences.id", primary_key=True)
    waiting: int = 0
    until: datetime
    flagged_at: datetime | None = None


class SignInLink(SQLModel, table=True):
    """A one-time dashboard link /dangnhap sent to an official or school admin: only the
    token's SHA-256 is kept; it opens one session, once, within its minutes."""

    __tablename__ = "signin_links"
    id: int | None = Field(default=None, primary_key=True)
    token_hash: str = Field(unique=True, max_length=64)
    person_id: int = Field(foreign_key="people.id", index=True)
    created_at: datetime = Field(default_factory=utcnow)
    expires_at: datetime
    used_at: datetime | None = None


class WebSession(SQLModel, table=True):
    """A signed-in dashboard session. The cookie holds a random id; the row keeps its SHA-256
    and the form token (CSRF) of this session."""

    __tablename__ = "web_sessions"
    id_hash: str = Field(primary_key=True, max_length=64)
    person_id: int = Field(foreign_key="people.id", index=True)
    csrf: str = Field(max_length=64)
    created_at: datetime = Field(default_factory=utcnow)
    expires_at: datetime = Field(index=True)


def table_of(model: type[SQLModel]) -> Table:
    """The Core table of a model, for set-based statements (SQLModel hides it from typing)."""
    table: Table = model.__table__  # type: ignore[attr-defined]
    return table
