"""Zalo OA: tokens, followers' interaction window, promotions sent, quota flags

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-30 20:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_Str = sqlmodel.sql.sqltypes.AutoString
_Time = sqlmodel.sql.sqltypes.UTCDateTime


def upgrade() -> None:
    op.create_table(
        "zalo_oa_tokens",
        sa.Column("app_id", _Str(length=64), nullable=False),
        sa.Column("refresh_token", _Str(length=1024), nullable=False),
        sa.Column("access_token", _Str(length=1024), nullable=True),
        sa.Column("access_expires_at", _Time(), nullable=True),
        sa.Column("refreshing_since", _Time(), nullable=True),
        sa.Column("updated_at", _Time(), nullable=False),
        sa.PrimaryKeyConstraint("app_id"),
    )
    op.create_table(
        "zalo_oa_followers",
        sa.Column("user_id", _Str(length=64), nullable=False),
        sa.Column("last_interaction_at", _Time(), nullable=True),
        sa.Column("cs_since_interaction", sa.Integer(), nullable=False),
        sa.Column("followed", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("user_id"),
    )
    op.create_table(
        "zalo_oa_promotions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", _Str(length=64), nullable=False),
        sa.Column("sent_at", _Time(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(
        "ix_zalo_oa_promotions_user", "zalo_oa_promotions", ["user_id", "sent_at"], unique=False
    )
    op.create_table(
        "zalo_oa_flags",
        sa.Column("occurrence_id", sa.Integer(), nullable=False),
        sa.Column("waiting", sa.Integer(), nullable=False),
        sa.Column("until", _Time(), nullable=False),
        sa.Column("flagged_at", _Time(), nullable=True),
        sa.ForeignKeyConstraint(["occurrence_id"], ["occurrences.id"]),
        sa.PrimaryKeyConstraint("occurrence_id"),
    )


def downgrade() -> None:
    op.drop_table("zalo_oa_flags")
    op.drop_index("ix_zalo_oa_promotions_user", table_name="zalo_oa_promotions")
    op.drop_table("zalo_oa_promotions")
    op.drop_table("zalo_oa_followers")
    op.drop_table("zalo_oa_tokens")
