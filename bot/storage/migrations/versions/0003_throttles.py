"""throttles: wrong invite codes counted apart from people, so erasure does not reset them

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-30 17:45:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "throttles",
        sa.Column("key", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.Column("since", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("key"),
    )
    with op.batch_alter_table("throttles", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_throttles_since"), ["since"], unique=False)

    op.create_table(
        "secrets",
        sa.Column("name", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("value", sqlmodel.sql.sqltypes.AutoString(length=128), nullable=False),
        sa.PrimaryKeyConstraint("name"),
    )

    # Counts in flight are not carried over: a lockout lasts 15 minutes at most.
    with op.batch_alter_table("people", schema=None) as batch_op:
        batch_op.drop_column("wrong_codes_since")
        batch_op.drop_column("wrong_codes")


def downgrade() -> None:
    with op.batch_alter_table("people", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("wrong_codes", sa.Integer(), nullable=False, server_default="0")
        )
        batch_op.add_column(
            sa.Column("wrong_codes_since", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True)
        )
    op.drop_table("secrets")
    with op.batch_alter_table("throttles", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_throttles_since"))
    op.drop_table("throttles")
