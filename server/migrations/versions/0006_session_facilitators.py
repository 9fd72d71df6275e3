"""co-facilitators of a session

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-22 18:00:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "session_facilitator",
        sa.Column("session_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("added_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["session_id"], ["session.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["user_id"], ["user.id"]),
        sa.PrimaryKeyConstraint("session_id", "user_id"),
    )
    op.create_index(op.f("ix_session_facilitator_user_id"), "session_facilitator", ["user_id"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_session_facilitator_user_id"), table_name="session_facilitator")
    op.drop_table("session_facilitator")
