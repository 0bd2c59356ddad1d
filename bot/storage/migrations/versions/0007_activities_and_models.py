"""activity reports (/baocao) and exemplary models (/mohinh)

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-01 09:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "activity_reports",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("unit_id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=True),
        sa.Column("kind", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True),
        sa.Column("plan", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
        sa.Column("theme", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column("held_on", sa.Date(), nullable=True),
        sa.Column("participants", sa.JSON(), nullable=False),
        sa.Column("notes", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column("status", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("sent_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("updated_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["person_id"], ["people.id"]),
        sa.ForeignKeyConstraint(["unit_id"], ["units.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("activity_reports", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_activity_reports_person_id"), ["person_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_activity_reports_unit_id"), ["unit_id"], unique=False)
    op.create_table(
        "exemplary_models",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("unit_id", sa.Integer(), nullable=True),
        sa.Column("person_id", sa.Integer(), nullable=True),
        sa.Column("title", sqlmodel.sql.sqltypes.AutoString(length=255), nullable=False),
        sa.Column("description", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("status", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("decided_by", sa.Integer(), nullable=True),
        sa.Column("decided_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.Column("reason", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["decided_by"], ["people.id"]),
        sa.ForeignKeyConstraint(["person_id"], ["people.id"]),
        sa.ForeignKeyConstraint(["unit_id"], ["units.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("exemplary_models", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_exemplary_models_person_id"), ["person_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_exemplary_models_unit_id"), ["unit_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("exemplary_models", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_exemplary_models_unit_id"))
        batch_op.drop_index(batch_op.f("ix_exemplary_models_person_id"))
    op.drop_table("exemplary_models")
    with op.batch_alter_table("activity_reports", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_activity_reports_unit_id"))
        batch_op.drop_index(batch_op.f("ix_activity_reports_person_id"))
    op.drop_table("activity_reports")
