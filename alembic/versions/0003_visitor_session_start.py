"""visitors.session_started_at: where the visitor's current session begins, so an event older
than it (a server-side backfill) finds its own session instead of stretching the current one

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-25
"""
from alembic import op
import sqlalchemy as sa

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # NULL for rows written before: their current session's start is not known
    with op.batch_alter_table("visitors") as batch_op:
        batch_op.add_column(sa.Column("session_started_at", sa.BigInteger(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("visitors") as batch_op:
        batch_op.drop_column("session_started_at")
