"""Bringing a host under RECON: the runbook steps (keygen, host trust, sudoers, check) and
their CLI commands.
"""
