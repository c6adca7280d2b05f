"""The core layer: what every other part uses and that knows nothing of Flask, the
database or SSH -- the one error type, time helpers, process identity.

Rule (checked by tests/test_layers.py): nothing here imports Flask, SQLAlchemy, Paramiko or
any other part of RECON.
"""
