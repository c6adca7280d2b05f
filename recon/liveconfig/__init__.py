"""A changed ``recon.toml`` applied by every process without a restart.

The file is the one source of truth. Each serving process checks it once a second
(:mod:`.watch`: a ``stat``, and a read only when it changed); a valid new revision is applied
in place (:mod:`.apply`: the runtime's config swapped, the monitor restarting only the
supervisors of hosts it changed, the notifier re-made when its channels changed); an invalid
one is refused with its errors and the running config stays. Edits from the browser and the
CLI go through :mod:`recon.config.edit` and are applied at once in the process that made
them. Every process records the revision it runs (``monitor_member``), so a process on
another revision -- a second server on the same database with another file -- is reported
(:mod:`recon.monitor.config_split`), never silently split.
"""
