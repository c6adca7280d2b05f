"""The schema RECON created before it had migrations (``db.create_all()``).

Revision ID: 0001_round1
Revises:
Create Date: 2026-11-29
"""

from alembic import op

revision = "0001_round1"
down_revision = None
branch_labels = None
depends_on = None

# Exactly what create_all() made then, so a database of that time is stamped at this
# revision and upgraded from here.
TABLES = [
    """CREATE TABLE audit (
        id INTEGER NOT NULL, at DATETIME NOT NULL, actor VARCHAR(200) NOT NULL,
        remote_addr VARCHAR(64), action VARCHAR(40) NOT NULL, service VARCHAR(64),
        host VARCHAR(64), success BOOLEAN, exit_code INTEGER, duration_ms DOUBLE,
        error VARCHAR(64), output TEXT, CONSTRAINT pk_audit PRIMARY KEY (id))""",
    "CREATE INDEX ix_audit_at ON audit (at)",
    "CREATE INDEX ix_audit_service ON audit (service)",
    """CREATE TABLE users (
        id INTEGER NOT NULL, username VARCHAR(64) NOT NULL, password_hash VARCHAR(256) NOT NULL,
        role VARCHAR(16) NOT NULL, created_at DATETIME NOT NULL,
        CONSTRAINT pk_users PRIMARY KEY (id), CONSTRAINT uq_users_username UNIQUE (username))""",
    """CREATE TABLE api_tokens (
        id INTEGER NOT NULL, name VARCHAR(64) NOT NULL, token_hash VARCHAR(64) NOT NULL,
        role VARCHAR(16) NOT NULL, created_at DATETIME NOT NULL, last_used_at DATETIME,
        revoked_at DATETIME, CONSTRAINT pk_api_tokens PRIMARY KEY (id),
        CONSTRAINT uq_api_tokens_name UNIQUE (name),
        CONSTRAINT uq_api_tokens_token_hash UNIQUE (token_hash))""",
    """CREATE TABLE login_failures (
        "key" VARCHAR(200) NOT NULL, count INTEGER NOT NULL, last_at DATETIME NOT NULL,
        CONSTRAINT pk_login_failures PRIMARY KEY ("key"))""",
    """CREATE TABLE terminal_sessions (
        id VARCHAR(32) NOT NULL, user VARCHAR(200) NOT NULL, host VARCHAR(64) NOT NULL,
        mode VARCHAR(8) NOT NULL, slot INTEGER NOT NULL, token_hash VARCHAR(64) NOT NULL,
        status VARCHAR(12) NOT NULL, pid INTEGER, socket_path VARCHAR(200) NOT NULL,
        spawner VARCHAR(64) NOT NULL, created_at DATETIME NOT NULL,
        last_activity_at DATETIME NOT NULL, expires_at DATETIME NOT NULL, closed_at DATETIME,
        close_reason VARCHAR(16), CONSTRAINT pk_terminal_sessions PRIMARY KEY (id))""",
    "CREATE INDEX ix_terminal_open ON terminal_sessions (closed_at)",
    "CREATE UNIQUE INDEX uq_terminal_open_slot ON terminal_sessions (user, slot) "
    "WHERE closed_at IS NULL",
    "CREATE UNIQUE INDEX uq_terminal_open_target ON terminal_sessions (user, host, mode) "
    "WHERE closed_at IS NULL",
    """CREATE TABLE terminal_counters (
        name VARCHAR(40) NOT NULL, value INTEGER NOT NULL,
        CONSTRAINT pk_terminal_counters PRIMARY KEY (name))""",
    """CREATE TABLE login_sessions (
        id INTEGER NOT NULL, key_hash VARCHAR(64) NOT NULL, user_id INTEGER NOT NULL,
        created_at DATETIME NOT NULL, expires_at DATETIME NOT NULL, revoked_at DATETIME,
        CONSTRAINT pk_login_sessions PRIMARY KEY (id),
        CONSTRAINT uq_login_sessions_key_hash UNIQUE (key_hash),
        CONSTRAINT fk_login_sessions_user_id_users FOREIGN KEY(user_id) REFERENCES users (id)
            ON DELETE CASCADE)""",
]
DROP = ["login_sessions", "terminal_counters", "terminal_sessions", "login_failures",
        "api_tokens", "users", "audit"]


# The same tables on PostgreSQL (RECON on PostgreSQL began later, but its chain runs from
# empty too): its names for the types, serial ids, and "user" quoted (a reserved word there).
POSTGRESQL = [("DATETIME", "TIMESTAMP WITH TIME ZONE"), ("DOUBLE", "DOUBLE PRECISION"),
              ("id INTEGER NOT NULL", "id SERIAL NOT NULL"), ("user VARCHAR", '"user" VARCHAR'),
              ("(user, ", '("user", ')]


def _for_dialect(statement: str) -> str:
    if op.get_bind().dialect.name == "postgresql":
        for old, new in POSTGRESQL:
            statement = statement.replace(old, new)
    return statement


def upgrade():
    for statement in TABLES:
        op.execute(_for_dialect(statement))


def downgrade():
    for table in DROP:
        op.execute(f"DROP TABLE {table}")
