"""cohorts have a time zone: the times people read (dashboards, reports, CSVs, workbooks) are local to the site

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-07 14:00:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Existing cohorts keep showing UTC, as they did, until an organizer sets their zone.
    with op.batch_alter_table("cohort") as batch:
        batch.add_column(sa.Column("time_zone", sa.String(length=64), nullable=False, server_default="UTC"))


def downgrade() -> None:
    with op.batch_alter_table("cohort") as batch:
        batch.drop_column("time_zone")
