"""Logs: filtered journal reads, plain-text downloads and live follow (SSE); the blueprint is
:mod:`.routes`.

The package imports nothing itself, so :mod:`recon.logs.query` (argv and sudoers rule, used
by the demo target) stays importable without Flask.
"""
