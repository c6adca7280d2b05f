"""terminal endings: how a terminal's ssh ended (code, exit status, ssh's words)

Revision ID: 0014_terminal_endings
Revises: 0013_terminal_recordings
Create Date: 2026-12-08 10:00:00

A terminal that cannot connect, or whose connection drops, says why on its page (host down,
sshd refused or not accepting, key refused, host key changed) instead of only "Disconnected".
"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0014_terminal_endings'
down_revision = '0013_terminal_recordings'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('terminal_sessions', schema=None) as batch_op:
        batch_op.add_column(sa.Column('end_code', sa.String(length=24), nullable=True))
        batch_op.add_column(sa.Column('end_status', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('end_detail', sa.Text(), nullable=True))


def downgrade():
    with op.batch_alter_table('terminal_sessions', schema=None) as batch_op:
        batch_op.drop_column('end_detail')
        batch_op.drop_column('end_status')
        batch_op.drop_column('end_code')
