"""host units: every unit of each host, as the host page shows it

Revision ID: 0010_host_units
Revises: 0009_config_revision
Create Date: 2026-12-08 10:00:00

One row per host: the encoded unit list the process watching the host read last, when, and
the last attempt's error (a failed read keeps the list it had).
"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0010_host_units'
down_revision = '0009_config_revision'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'host_units',
        sa.Column('host', sa.String(length=64), nullable=False),
        sa.Column('units', sa.Text(), nullable=True),
        sa.Column('read_at', sa.Double(), nullable=True),
        sa.Column('tried_at', sa.Double(), nullable=False),
        sa.Column('read_ms', sa.Double(), nullable=True),
        sa.Column('error', sa.String(length=64), nullable=True),
        sa.Column('message', sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint('host'))


def downgrade():
    op.drop_table('host_units')
