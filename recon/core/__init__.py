"""The core layer: what every other part uses and that knows nothing of Flask, the
database or SSH -- the one error type, time helpers, process identity.

Rule (checked by tests/unit/test_import_graph.py): nothing here imports Flask, SQLAlchemy,
Paramiko or any other part of RECON.
"""
