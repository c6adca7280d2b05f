"""terminal identities: the host login each terminal runs as, and what it may do

Revision ID: 0015_terminal_identities
Revises: 0014_terminal_endings
Create Date: 2026-12-08 10:00:00

A terminal runs as the user's mapped login (their own key or the dashboard's) or the host's
shared terminal_user; the row records which, and the once-per-session `sudo -n -l` summary the
terminal page shows.
"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0015_terminal_identities'
down_revision = '0014_terminal_endings'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'terminal_identities',
        sa.Column('session_id', sa.String(length=32), nullable=False),
        sa.Column('login', sa.String(length=32), nullable=False),
        sa.Column('key_kind', sa.String(length=12), nullable=False),
        sa.Column('probed_at', sa.Double(), nullable=True),
        sa.Column('probe', sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(['session_id'], ['terminal_sessions.id'],
                                name=op.f('fk_terminal_identities_session_id_terminal_sessions'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('session_id', name=op.f('pk_terminal_identities')),
    )


def downgrade():
    op.drop_table('terminal_identities')
