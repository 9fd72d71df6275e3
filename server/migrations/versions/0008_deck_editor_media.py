"""decks edited in the browser (templates, versions, problems, undoable deletes, shares), presenter notes, images

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-07 10:00:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("deck") as batch:
        batch.add_column(sa.Column("template", sa.Boolean(), nullable=False, server_default=sa.false()))
        batch.add_column(sa.Column("version", sa.Integer(), nullable=False, server_default=sa.text("1")))
        batch.add_column(sa.Column("problems", sa.Integer(), nullable=False, server_default=sa.text("0")))
        batch.add_column(sa.Column("deleted_at", sa.DateTime(timezone=True), nullable=True))
    # Decks without an owner were stored from the decks folder: they become its read-only templates.
    op.execute(sa.text("UPDATE deck SET template = true WHERE owner_id IS NULL"))
    op.create_table(
        "deckshare",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("deck_id", sa.Integer(), sa.ForeignKey("deck.id"), nullable=False),
        sa.Column("user_id", sa.Integer(), sa.ForeignKey("user.id"), nullable=False),
        sa.Column("can_edit", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("deck_id", "user_id"),
    )
    op.create_index("ix_deckshare_deck_id", "deckshare", ["deck_id"])
    op.create_index("ix_deckshare_user_id", "deckshare", ["user_id"])
    op.create_table(
        "media",
        sa.Column("name", sa.String(length=80), primary_key=True),
        sa.Column("media_type", sa.String(length=40), nullable=False),
        sa.Column("width", sa.Integer(), nullable=False),
        sa.Column("height", sa.Integer(), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.Column("created_by", sa.Integer(), sa.ForeignKey("user.id"), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    with op.batch_alter_table("activity") as batch:
        batch.add_column(sa.Column("notes", sa.String(length=4000), nullable=False, server_default=""))


def downgrade() -> None:
    with op.batch_alter_table("activity") as batch:
        batch.drop_column("notes")
    op.drop_table("media")
    op.drop_index("ix_deckshare_user_id", "deckshare")
    op.drop_index("ix_deckshare_deck_id", "deckshare")
    op.drop_table("deckshare")
    with op.batch_alter_table("deck") as batch:
        batch.drop_column("deleted_at")
        batch.drop_column("problems")
        batch.drop_column("version")
        batch.drop_column("template")
