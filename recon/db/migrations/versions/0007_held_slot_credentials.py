"""held slot credentials: the login behind a held stream, and when its rights ended

Revision ID: 0007_held_slot_credentials
Revises: 0006_epoch_seconds
Create Date: 2026-12-05 10:00:00

A held slot (a terminal, log stream or event stream holding a server thread) records the
login it was opened with (``auth_ref``), so a logout, a revoked token or a changed user can
mark its slots ended (``ended_at``) for whichever process holds the stream.
"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0007_held_slot_credentials'
down_revision = '0006_epoch_seconds'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('held_slots', schema=None) as batch_op:
        batch_op.add_column(sa.Column('auth_ref', sa.String(length=80), nullable=True))
        batch_op.add_column(sa.Column('ended_at', sa.Double(), nullable=True))


def downgrade():
    with op.batch_alter_table('held_slots', schema=None) as batch_op:
        batch_op.drop_column('ended_at')
        batch_op.drop_column('auth_ref')
