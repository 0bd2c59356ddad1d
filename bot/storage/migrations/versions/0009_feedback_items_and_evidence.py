"""questions, suggestions and misinformation reports (feedback_items); evidence files

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-30 20:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    text = sqlmodel.sql.sqltypes.AutoString
    when = sqlmodel.sql.sqltypes.UTCDateTime
    op.create_table(
        "feedback_items",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", text(length=16), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=True),
        sa.Column("chat_id", sa.Integer(), nullable=True),
        sa.Column("message_id", text(length=64), nullable=True),
        sa.Column("unit_id", sa.Integer(), nullable=True),
        sa.Column("text", text(), nullable=True),
        sa.Column("reported_text", text(), nullable=True),
        sa.Column("status", text(length=16), nullable=False),
        sa.Column("answer", text(), nullable=True),
        sa.Column("answered_by", sa.Integer(), nullable=True),
        sa.Column("answered_at", when(), nullable=True),
        sa.Column("occurrence_id", sa.Integer(), nullable=True),
        sa.Column("reminded_at", when(), nullable=True),
        sa.Column("escalated_at", when(), nullable=True),
        sa.Column("category", text(length=16), nullable=True),
        sa.Column("sentiment", text(length=16), nullable=True),
        sa.Column("classified_at", when(), nullable=True),
        sa.Column("created_at", when(), nullable=False),
        sa.ForeignKeyConstraint(["answered_by"], ["people.id"]),
        sa.ForeignKeyConstraint(["chat_id"], ["chats.id"]),
        sa.ForeignKeyConstraint(["occurrence_id"], ["occurrences.id"]),
        sa.ForeignKeyConstraint(["person_id"], ["people.id"]),
        sa.ForeignKeyConstraint(["unit_id"], ["units.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("feedback_items", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_feedback_items_person_id"), ["person_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_feedback_items_unit_id"), ["unit_id"], unique=False)
        batch_op.create_index(
            "ix_feedback_items_open", ["status", "kind", "created_at"], unique=False
        )
    op.create_table(
        "evidence",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=True),
        sa.Column("activity_report_id", sa.Integer(), nullable=True),
        sa.Column("model_id", sa.Integer(), nullable=True),
        sa.Column("platform", text(length=16), nullable=False),
        sa.Column("kind", text(length=16), nullable=False),
        sa.Column("file_id", text(length=255), nullable=False),
        sa.Column("file_unique_id", text(length=64), nullable=False),
        sa.Column("mime_type", text(length=100), nullable=True),
        sa.Column("size", sa.Integer(), nullable=True),
        sa.Column("file_name", text(length=255), nullable=True),
        sa.Column("stored_path", text(length=500), nullable=True),
        sa.Column("created_at", when(), nullable=False),
        sa.ForeignKeyConstraint(["activity_report_id"], ["activity_reports.id"]),
        sa.ForeignKeyConstraint(["model_id"], ["exemplary_models.id"]),
        sa.ForeignKeyConstraint(["person_id"], ["people.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("evidence", schema=None) as batch_op:
        for column in ("activity_report_id", "model_id", "person_id"):
            batch_op.create_index(batch_op.f(f"ix_evidence_{column}"), [column], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("evidence", schema=None) as batch_op:
        for column in ("activity_report_id", "model_id", "person_id"):
            batch_op.drop_index(batch_op.f(f"ix_evidence_{column}"))
    op.drop_table("evidence")
    with op.batch_alter_table("feedback_items", schema=None) as batch_op:
        batch_op.drop_index("ix_feedback_items_open")
        batch_op.drop_index(batch_op.f("ix_feedback_items_unit_id"))
        batch_op.drop_index(batch_op.f("ix_feedback_items_person_id"))
    op.drop_table("feedback_items")
