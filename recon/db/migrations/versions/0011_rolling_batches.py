"""rolling batches: hosts side by side and a pause between them

Revision ID: 0011_rolling_batches
Revises: 0010_host_units
Create Date: 2026-12-07 12:00:00

A rolling run may act on several hosts at once (``batch_hosts``) and wait between those
batches (``pause_seconds``); runs from before keep NULL (one host at a time, no pause).
"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0011_rolling_batches'
down_revision = '0010_host_units'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('rolling_run', schema=None) as batch_op:
        batch_op.add_column(sa.Column('batch_hosts', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('pause_seconds', sa.Double(), nullable=True))


def downgrade():
    with op.batch_alter_table('rolling_run', schema=None) as batch_op:
        batch_op.drop_column('pause_seconds')
        batch_op.drop_column('batch_hosts')
