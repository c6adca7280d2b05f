"""Every unit of each host: read by the monitor's process (one unprivileged command), stored,
shown on the host page (``/hosts/<name>``) and by ``GET /api/hosts/<name>/units``."""
