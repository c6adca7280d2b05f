"""``make bench``: RECON measured side by side with the floor and the runbook's way."""
