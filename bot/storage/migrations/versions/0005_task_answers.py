"""task answers: every answer to a task kept, as a status and free-text details

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-30 18:50:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The display labels the old `tasks.result` began with (content/templates/task_button.j2).
_LABELS = {"Đã hoàn thành": "done", "Đang thực hiện": "doing", "Gặp khó khăn": "blocked"}


def upgrade() -> None:
    op.create_table(
        "task_answers",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("task_id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=True),
        sa.Column("status", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("details", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column("answered_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["person_id"], ["people.id"]),
        sa.ForeignKeyConstraint(["task_id"], ["tasks.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("task_answers", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_task_answers_person_id"), ["person_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_task_answers_task_id"), ["task_id"], unique=False)

    # Results given so far become answers: "<label>[: <details>]" → status and details.
    bind = op.get_bind()
    tasks = sa.table(
        "tasks",
        sa.column("id", sa.Integer()),
        sa.column("result", sa.String()),
        sa.column("result_by", sa.Integer()),
        sa.column("result_at", sqlmodel.sql.sqltypes.UTCDateTime()),
    )
    answers = sa.table(
        "task_answers",
        sa.column("task_id", sa.Integer()),
        sa.column("person_id", sa.Integer()),
        sa.column("status", sa.String()),
        sa.column("details", sa.String()),
        sa.column("answered_at", sqlmodel.sql.sqltypes.UTCDateTime()),
    )
    given = bind.execute(
        sa.select(tasks.c.id, tasks.c.result, tasks.c.result_by, tasks.c.result_at).where(
            tasks.c.result.is_not(None), tasks.c.result_at.is_not(None)
        )
    ).all()
    rows = []
    for task_id, result, person_id, at in given:
        label, _, details = result.partition(": ")
        if label in _LABELS:
            rows.append(
                {"task_id": task_id, "person_id": person_id, "status": _LABELS[label],
                 "details": details or None, "answered_at": at}
            )  # fmt: skip
    if rows:
        bind.execute(answers.insert(), rows)

    with op.batch_alter_table("tasks", schema=None) as batch_op:
        batch_op.drop_column("result_at")
        batch_op.drop_column("result_by")
        batch_op.drop_column("result")


def downgrade() -> None:
    with op.batch_alter_table("tasks", schema=None) as batch_op:
        batch_op.add_column(sa.Column("result", sqlmodel.sql.sqltypes.AutoString(), nullable=True))
        batch_op.add_column(sa.Column("result_by", sa.Integer(), nullable=True))
        batch_op.add_column(
            sa.Column("result_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True)
        )
        batch_op.create_foreign_key("fk_tasks_result_by", "people", ["result_by"], ["id"])
    with op.batch_alter_table("task_answers", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_task_answers_task_id"))
        batch_op.drop_index(batch_op.f("ix_task_answers_person_id"))
    op.drop_table("task_answers")
