"""HTTP plumbing every blueprint shares: JSON errors, security headers, query parameters,
Server-Sent Events, the health route, the request context (config and executor) and the
cross-worker slots of long-lived responses.
"""
