"""config revisions: which recon.toml each monitoring process runs

Revision ID: 0009_config_revision
Revises: 0008_host_leases
Create Date: 2026-12-07 10:00:00

Each member of the monitor records the revision of the config it runs and its server, so
two servers on one database with different configs are reported instead of silently
splitting the fleet.
"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0009_config_revision'
down_revision = '0008_host_leases'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('monitor_member', schema=None) as batch_op:
        batch_op.add_column(sa.Column('config_revision', sa.String(length=16),
                                      server_default='', nullable=False))
        batch_op.add_column(sa.Column('server', sa.String(length=128), server_default='',
                                      nullable=False))


def downgrade():
    with op.batch_alter_table('monitor_member', schema=None) as batch_op:
        batch_op.drop_column('server')
        batch_op.drop_column('config_revision')
