"""The audit trail: the entry model, the store that writes entries before a response goes
out, and the admin route that lists them.
"""
