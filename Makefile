# RECON — the two commands: `make run` and `make test`. Both install what they need.
SHELL := /bin/bash
VENV ?= .venv
PY := $(VENV)/bin/python
BIND ?= 127.0.0.1:8420
# Debian packages the real SSH test target needs (sshd, sudo, the real journalctl's writer),
# and the Chromium the browser tests drive (Playwright's own browser download is impossible).
SYSTEM_PACKAGES := openssh-server sudo systemd-journal-remote chromium

.PHONY: install system-deps run test lint bench clean

$(VENV)/.installed: setup.cfg pyproject.toml
	test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install -q --disable-pip-version-check -e '.[test]'
	touch $@

install: $(VENV)/.installed

# Installs the Debian packages when missing (needs root); never starts the system's sshd.
system-deps:
	@missing=""; for p in $(SYSTEM_PACKAGES); do \
	  dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q "ok installed" || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
	  echo "installing:$$missing"; \
	  if [ ! -e /usr/sbin/policy-rc.d ]; then printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d; chmod +x /usr/sbin/policy-rc.d; fi; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; \
	fi

# Starts the dashboard under gunicorn; with no instance/recon.toml (and no RECON_CONFIG) it
# first starts a built-in demo target on 127.0.0.1 and manages its demo services.
run: install system-deps
	$(PY) -m recon.serve --bind $(BIND)

test: install system-deps
	$(PY) -m pytest $(PYTEST_ARGS)

lint: install
	$(VENV)/bin/ruff check .

bench: install system-deps
	$(PY) -m bench

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache *.egg-info test-artifacts
