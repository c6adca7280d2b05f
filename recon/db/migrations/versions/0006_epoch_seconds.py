"""epoch seconds: the DateTime columns become floats (epoch seconds, UTC), like every other time

Revision ID: 0006_epoch_seconds
Revises: 0005_rolling_settle
Create Date: 2026-12-04 19:30:00

SQLite stored these ``DateTime`` values as text in UTC, ``YYYY-MM-DD HH:MM:SS.ffffff`` (an
older row may lack the fraction or the time). They are converted in SQL before the column's
type changes, exactly: the float is the one Python's ``datetime.timestamp()`` gives for that
time. The downgrade writes the same text back; a float written since, finer than microseconds,
is rounded to the nearest one (a float exactly halfway goes up, where Python would pick the
even one).

The tables are rebuilt (SQLite cannot change a column's type in place); ``env.py`` turns
foreign keys off meanwhile, or dropping the old ``users`` would cascade to ``login_sessions``.
"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0006_epoch_seconds'
down_revision = '0005_rolling_settle'
branch_labels = None
depends_on = None

# table -> (column, nullable)
COLUMNS = {
    'users': [('created_at', False)],
    'api_tokens': [('created_at', False), ('last_used_at', True), ('revoked_at', True)],
    'login_sessions': [('created_at', False), ('expires_at', False), ('revoked_at', True)],
    'login_failures': [('last_at', False)],
    'audit': [('at', False)],
    'terminal_sessions': [('created_at', False), ('last_activity_at', False),
                          ('expires_at', False), ('closed_at', True)],
    'held_slots': [('created_at', False)],
}


def _to_epoch(c: str) -> str:
    """SQL: the stored text as epoch seconds. Whole seconds from strftime on the text without
    its fraction (strftime rounds a fraction to milliseconds: .999999 would be the next
    second), the microseconds from the text, one division at the end."""
    micros = (f"CASE WHEN substr({c}, 20, 1) = '.' "
              f"THEN CAST(round(CAST(substr({c}, 20) AS REAL) * 1000000) AS INTEGER) ELSE 0 END")
    return (f"(CAST(strftime('%s', substr({c}, 1, 19)) AS INTEGER) * 1000000 + {micros})"
            f" / 1000000.0")


def _to_text(c: str) -> str:
    """SQL: epoch seconds as the text SQLAlchemy writes for a DateTime on SQLite, rounded to
    the microsecond from the fraction alone (the whole float times 10**6 is not exact)."""
    whole = f"CAST({c} AS INTEGER)"
    micros = f"({whole} * 1000000 + CAST(round(({c} - {whole}) * 1000000) AS INTEGER))"
    return (f"strftime('%Y-%m-%d %H:%M:%S', {micros} / 1000000, 'unixepoch') "
            f"|| printf('.%06d', {micros} % 1000000)")


def upgrade():
    if op.get_bind().dialect.name == "postgresql":
        _retype("extract(epoch from {c})", sa.DateTime(timezone=True), sa.Double())
        return
    for table, columns in COLUMNS.items():
        for column, _ in columns:
            # A value strftime cannot read becomes NULL and fails the NOT NULL columns: the
            # upgrade stops (and rolls back) rather than lose a time.
            op.execute(f"UPDATE {table} SET {column} = {_to_epoch(column)} "
                       f"WHERE typeof({column}) = 'text'")
        with op.batch_alter_table(table, schema=None) as batch_op:
            for column, nullable in columns:
                batch_op.alter_column(column, existing_type=sa.DateTime(timezone=True),
                                      type_=sa.Double(), existing_nullable=nullable)


def _retype(using: str, old: sa.types.TypeEngine, new: sa.types.TypeEngine) -> None:
    """PostgreSQL changes a column's type in place, converting each value with ``using``."""
    for table, columns in COLUMNS.items():
        for column, nullable in columns:
            op.alter_column(table, column, existing_type=old, type_=new,
                            existing_nullable=nullable,
                            postgresql_using=using.format(c=column))


def downgrade():
    if op.get_bind().dialect.name == "postgresql":
        _retype("to_timestamp({c})", sa.Double(), sa.DateTime(timezone=True))
        return
    for table, columns in COLUMNS.items():
        with op.batch_alter_table(table, schema=None) as batch_op:
            for column, nullable in columns:
                batch_op.alter_column(column, existing_type=sa.Double(),
                                      type_=sa.DateTime(timezone=True),
                                      existing_nullable=nullable)
        for column, _ in columns:
            op.execute(f"UPDATE {table} SET {column} = {_to_text(column)} "
                       f"WHERE typeof({column}) IN ('real', 'integer')")
