"""read rollups: hourly counters and revenue, hourly visitor sketches, coverage

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-25
"""
from alembic import op
import sqlalchemy as sa


revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('rollup_hourly',
    sa.Column('site_id', sa.Uuid(), nullable=False),
    sa.Column('hour', sa.BigInteger(), nullable=False),
    sa.Column('goal_id', sa.Uuid(), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('events', sa.BigInteger(), server_default='0', nullable=False),
    sa.Column('pageviews', sa.BigInteger(), server_default='0', nullable=False),
    sa.Column('conversions', sa.BigInteger(), server_default='0', nullable=False),
    sa.Column('revenue_micros', sa.BigInteger(), server_default='0', nullable=False),
    sa.ForeignKeyConstraint(['site_id'], ['sites.id'], name=op.f('fk_rollup_hourly_site_id'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('site_id', 'hour', 'goal_id', 'currency', name=op.f('pk_rollup_hourly'))
    )
    op.create_table('visitor_sketches',
    sa.Column('site_id', sa.Uuid(), nullable=False),
    sa.Column('hour', sa.BigInteger(), nullable=False),
    sa.Column('goal_id', sa.Uuid(), nullable=False),
    sa.Column('sketch', sa.LargeBinary(), nullable=False),
    sa.ForeignKeyConstraint(['site_id'], ['sites.id'], name=op.f('fk_visitor_sketches_site_id'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('site_id', 'hour', 'goal_id', name=op.f('pk_visitor_sketches'))
    )
    op.create_table('rollup_coverage',
    sa.Column('site_id', sa.Uuid(), nullable=False),
    sa.Column('since_hour', sa.BigInteger(), nullable=False),
    sa.ForeignKeyConstraint(['site_id'], ['sites.id'], name=op.f('fk_rollup_coverage_site_id'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('site_id', name=op.f('pk_rollup_coverage'))
    )


def downgrade() -> None:
    op.drop_table('rollup_coverage')
    op.drop_table('visitor_sketches')
    op.drop_table('rollup_hourly')
