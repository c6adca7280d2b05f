"""Alembic environment for RECON (run through Flask-Migrate inside an app context).

Unlike the stock template it does not reconfigure logging (that would silence the
dashboard's own loggers), and it renders SQLite ALTERs as batch operations.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager

from alembic import context
from flask import current_app

log = logging.getLogger("alembic.env")
target_db = current_app.extensions["migrate"].db
config = context.config


def _metadata():
    return target_db.metadata


def run_migrations_offline() -> None:
    context.configure(url=str(target_db.engine.url), target_metadata=_metadata(),
                      literal_binds=True, render_as_batch=True)
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    def skip_empty(context_, revision, directives):  # `flask db migrate` with no change
        autogenerate = getattr(config.cmd_opts, "autogenerate", False)
        if autogenerate and directives[0].upgrade_ops.is_empty():
            directives[:] = []
            log.info("no changes in schema detected")

    with target_db.engine.connect() as connection, _foreign_keys_off(connection):
        options = {"render_as_batch": True, **current_app.extensions["migrate"].configure_args}
        context.configure(connection=connection, target_metadata=_metadata(),
                          process_revision_directives=skip_empty, **options)
        with context.begin_transaction():
            context.run_migrations()
            _check_foreign_keys(connection)


@contextmanager
def _foreign_keys_off(connection) -> Iterator[None]:
    """SQLite's way to rebuild a table (what a batch ALTER does): foreign keys off around the
    transaction, checked before they are on again. With them on, dropping the old copy of a
    parent table deletes its children (``ON DELETE CASCADE``): all login sessions, for
    ``users``. The pragma is ignored inside a transaction, hence here and not in a revision."""
    if connection.dialect.name != "sqlite":
        yield
        return
    connection.exec_driver_sql("PRAGMA foreign_keys=OFF")
    connection.commit()  # before Alembic's transaction, which must be its own
    try:
        yield
    finally:
        connection.rollback()
        connection.exec_driver_sql("PRAGMA foreign_keys=ON")
        connection.commit()


def _check_foreign_keys(connection) -> None:
    """Inside the migration's transaction: a row left pointing nowhere fails (rolls back) it."""
    if connection.dialect.name == "sqlite":
        broken = connection.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
        if broken:
            raise RuntimeError(f"the migration left rows without their parent: {broken[:5]}")


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
