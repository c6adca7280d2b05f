"""Alembic environment for RECON (run through Flask-Migrate inside an app context).

Unlike the stock template it does not reconfigure logging (that would silence the
dashboard's own loggers), and it renders SQLite ALTERs as batch operations.
"""

from __future__ import annotations

import logging

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

    with target_db.engine.connect() as connection:
        options = {"render_as_batch": True, **current_app.extensions["migrate"].configure_args}
        context.configure(connection=connection, target_metadata=_metadata(),
                          process_revision_directives=skip_empty, **options)
        with context.begin_transaction():
            context.run_migrations()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
