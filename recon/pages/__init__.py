"""The browser pages: the fleet dashboard, a unit's page, one unit across the fleet and the
audit page.
"""

from recon.pages import units  # noqa: F401  (registers /units on the dashboard's bp)
