"""Recordings of terminal sessions: written as the proxy relays ttyd's frames, replayed by
admins.

``cast`` writes and reads the gzip'd asciicast v2 files (no Flask), ``tap`` reads ttyd's
protocol off the relayed frames, ``store`` keeps the files (``<instance>/recordings``, 0700,
files 0600) and their rows and prunes them, ``routes`` serves the list, the cast and the
replay page (admins only). The package imports nothing itself.
"""
