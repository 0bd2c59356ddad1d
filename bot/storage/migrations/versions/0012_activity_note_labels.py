"""the classifier's labels on the notes of activity reports (/baocao)

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-30 21:15:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    text = sqlmodel.sql.sqltypes.AutoString
    with op.batch_alter_table("activity_reports", schema=None) as batch_op:
        batch_op.add_column(sa.Column("category", text(length=16), nullable=True))
        batch_op.add_column(sa.Column("sentiment", text(length=16), nullable=True))
        batch_op.add_column(
            sa.Column("classified_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True)
        )


def downgrade() -> None:
    with op.batch_alter_table("activity_reports", schema=None) as batch_op:
        for column in ("classified_at", "sentiment", "category"):
            batch_op.drop_column(column)
