"""Storage plumbing: the SQLAlchemy extension objects, the instance folder (secrets at rest),
the schema and its Alembic migrations. Features keep their own models.
"""
