"""The browser pages: the fleet dashboard, a unit's page and the audit page.
"""
