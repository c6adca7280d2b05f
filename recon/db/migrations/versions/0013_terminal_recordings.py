"""terminal recordings: one row per recorded terminal session

Revision ID: 0013_terminal_recordings
Revises: 0012_config_text
Create Date: 2026-12-09 10:00:00

The cast itself is a gzip'd asciicast file under <instance>/recordings; the row says whose
session it was, on which host, when, how many terminal bytes it holds and whether the size
cap stopped it or input was recorded.
"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0013_terminal_recordings'
down_revision = '0012_config_text'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'terminal_recordings',
        sa.Column('id', sa.String(length=32), nullable=False),
        sa.Column('user', sa.String(length=200), nullable=False),
        sa.Column('host', sa.String(length=64), nullable=False),
        sa.Column('file', sa.String(length=80), nullable=False),
        sa.Column('started_at', sa.Double(), nullable=False),
        sa.Column('ended_at', sa.Double(), nullable=True),
        sa.Column('bytes_recorded', sa.Integer(), nullable=False),
        sa.Column('size_cap_hit', sa.Boolean(), nullable=False),
        sa.Column('input_recorded', sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint('id'))
    op.create_index('ix_terminal_recordings_started_at', 'terminal_recordings',
                    ['started_at'])


def downgrade():
    op.drop_index('ix_terminal_recordings_started_at', 'terminal_recordings')
    op.drop_table('terminal_recordings')
