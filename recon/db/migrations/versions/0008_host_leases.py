"""host leases: the hosts shared among the processes, and a snapshot version

Revision ID: 0008_host_leases
Revises: 0007_held_slot_credentials
Create Date: 2026-12-06 10:00:00

Every serving process watches a share of the hosts (``monitor_member``, ``host_lease``);
every write of unit or host state bumps ``snapshot_version`` and stamps its rows, so a
process that keeps the fleet in memory reads only what changed.
"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0008_host_leases'
down_revision = '0007_held_slot_credentials'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'snapshot_version',
        sa.Column('name', sa.String(length=32), nullable=False),
        sa.Column('value', sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint('name'))
    op.create_table(
        'monitor_member',
        sa.Column('owner', sa.String(length=128), nullable=False),
        sa.Column('started_at', sa.Double(), nullable=False),
        sa.Column('expires_at', sa.Double(), nullable=False),
        sa.PrimaryKeyConstraint('owner'))
    op.create_table(
        'host_lease',
        sa.Column('host', sa.String(length=64), nullable=False),
        sa.Column('owner', sa.String(length=128), nullable=False),
        sa.Column('expires_at', sa.Double(), nullable=False),
        sa.Column('state', sa.String(length=16), nullable=False),
        sa.Column('note', sa.Text(), nullable=True),
        sa.Column('restarts', sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint('host'))
    with op.batch_alter_table('host_lease', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_host_lease_owner'), ['owner'], unique=False)
    for table in ('unit_state', 'host_state'):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(sa.Column('version', sa.Integer(), server_default='0',
                                          nullable=False))
            batch_op.create_index(batch_op.f(f'ix_{table}_version'), ['version'],
                                  unique=False)


def downgrade():
    for table in ('host_state', 'unit_state'):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_index(batch_op.f(f'ix_{table}_version'))
            batch_op.drop_column('version')
    with op.batch_alter_table('host_lease', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_host_lease_owner'))
    op.drop_table('host_lease')
    op.drop_table('monitor_member')
    op.drop_table('snapshot_version')
