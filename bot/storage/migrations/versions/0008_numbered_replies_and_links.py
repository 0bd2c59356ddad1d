"""Zalo Bot: numbered replies (the buttons last shown as numbers in a chat without buttons)
and people linked across platforms (people.linked_to)

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-30 20:30:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "numbered_replies",
        sa.Column("platform", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("chat_id", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("message_id", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("buttons", sa.JSON(), nullable=False),
        sa.Column("latest", sa.Boolean(), nullable=False),
        sa.Column("shown_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("platform", "chat_id"),
    )
    with op.batch_alter_table("people", schema=None) as batch_op:
        batch_op.add_column(sa.Column("linked_to", sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f("ix_people_linked_to"), ["linked_to"], unique=False)
        batch_op.create_foreign_key("fk_people_linked_to", "people", ["linked_to"], ["id"])


def downgrade() -> None:
    with op.batch_alter_table("people", schema=None) as batch_op:
        batch_op.drop_constraint("fk_people_linked_to", type_="foreignkey")
        batch_op.drop_index(batch_op.f("ix_people_linked_to"))
        batch_op.drop_column("linked_to")
    op.drop_table("numbered_replies")
