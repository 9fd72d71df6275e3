"""session pace, side-by-side activity, reactions switch

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-22 14:05:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


PACE = sa.Enum("presenter", "audience", name="pace")


def upgrade() -> None:
    PACE.create(op.get_bind(), checkfirst=True)  # PostgreSQL needs the type before the column
    with op.batch_alter_table("session", schema=None) as batch_op:
        batch_op.add_column(sa.Column("pace", PACE, nullable=False, server_default="presenter"))
        batch_op.add_column(sa.Column("beside_activity_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("reactions", sa.Boolean(), nullable=False, server_default=sa.true()))


def downgrade() -> None:
    with op.batch_alter_table("session", schema=None) as batch_op:
        batch_op.drop_column("reactions")
        batch_op.drop_column("beside_activity_id")
        batch_op.drop_column("pace")
    PACE.drop(op.get_bind(), checkfirst=True)
