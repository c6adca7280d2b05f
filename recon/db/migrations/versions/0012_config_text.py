"""config text: the accepted recon.toml revisions, for servers that share one config

Revision ID: 0012_config_text
Revises: 0011_rolling_batches
Create Date: 2026-12-07 13:00:00
"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0012_config_text'
down_revision = '0011_rolling_batches'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'config_text',
        sa.Column('revision', sa.String(length=16), nullable=False),
        sa.Column('text', sa.Text(), nullable=False),
        sa.Column('at', sa.Double(), nullable=False),
        sa.Column('server', sa.String(length=128), nullable=False),
        sa.PrimaryKeyConstraint('revision', name=op.f('pk_config_text')))
    with op.batch_alter_table('config_text', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_config_text_at'), ['at'], unique=False)


def downgrade():
    with op.batch_alter_table('config_text', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_config_text_at'))
    op.drop_table('config_text')
