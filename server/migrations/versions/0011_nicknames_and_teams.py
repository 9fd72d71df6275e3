"""sessions may ask for nicknames, offer teams and give a streak bonus; a participant keeps its nickname and team

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-07 17:20:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Existing sessions ask for no nickname and have no teams; existing participants have neither.
    with op.batch_alter_table("session") as batch:
        batch.add_column(sa.Column("nicknames", sa.Boolean(), nullable=False, server_default=sa.false()))
        batch.add_column(sa.Column("teams", sa.JSON(), nullable=False, server_default="[]"))
        batch.add_column(sa.Column("streak", sa.Boolean(), nullable=False, server_default=sa.false()))
    with op.batch_alter_table("participant") as batch:
        batch.add_column(sa.Column("nickname", sa.String(length=40), nullable=False, server_default=""))
        batch.add_column(sa.Column("team", sa.String(length=60), nullable=False, server_default=""))


def downgrade() -> None:
    with op.batch_alter_table("participant") as batch:
        batch.drop_column("team")
        batch.drop_column("nickname")
    with op.batch_alter_table("session") as batch:
        batch.drop_column("streak")
        batch.drop_column("teams")
        batch.drop_column("nicknames")
