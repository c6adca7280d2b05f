# RECON — the two commands: `make run` and `make test`. Both install what they need.
SHELL := /bin/bash
VENV ?= .venv
PY := $(VENV)/bin/python
BIND ?= 127.0.0.1:8420
# Debian packages the demo hosts need: systemd-nspawn boots them, debootstrap builds their
# cached Debian tree once (the client side uses the machine's ssh-keygen, hence openssh-client);
# for the tests also the Chromium the browser tests drive (Playwright's download is not used),
# the nginx that runs deploy/nginx/recon.conf in tests/deploy/test_nginx_deploy.py, and iproute2's
# `ss` (the monitor's fault test finds the sshd processes behind a connection with it), and
# prometheus for its `promtool` (tests check the /metrics output and the alerting rules), and
# postgresql for the throwaway cluster the PostgreSQL tests make (no service is started).
RUN_PACKAGES := systemd-container debootstrap openssh-client
TEST_PACKAGES := $(RUN_PACKAGES) chromium nginx iproute2 prometheus postgresql

.PHONY: install run test test-pg test-fast lint bench bench-scale clean

$(VENV)/.installed: setup.cfg pyproject.toml
	test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install -q --disable-pip-version-check -e '.[test]'
	touch $@

install: $(VENV)/.installed

# Installs missing Debian packages (as root). A policy-rc.d that exists only during the
# install keeps apt from starting the system's sshd; it is removed again afterwards.
define system-deps
	@missing=""; for p in $(1); do \
	  dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q "ok installed" || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" != 0 ]; then echo "missing Debian packages:$$missing (run as root or install them)"; exit 1; fi; \
	  echo "installing:$$missing"; \
	  made=""; if [ ! -e /usr/sbin/policy-rc.d ]; then printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d; chmod +x /usr/sbin/policy-rc.d; made=1; fi; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; rc=$$?; \
	  [ -n "$$made" ] && rm -f /usr/sbin/policy-rc.d; exit $$rc; \
	fi
endef

# Starts the dashboard under gunicorn; with no instance/recon.toml (and no RECON_CONFIG) it
# first boots 3 real demo hosts (systemd in nspawn containers) and manages their services.
run: install
	$(call system-deps,$(RUN_PACKAGES))
	$(PY) -m recon.entry.serve --bind $(BIND)

# Both tiers: tests/<package>/ against real hosts (root), and tests/unit/<package>/.
# Two pytest workers, a test file each at a time: each boots its own real hosts (a random
# loopback block per testbed keeps them apart) and waits on hosts and browsers more than it
# computes, so two halve the wall time on two cores. TEST_WORKERS=0 runs in one process.
TEST_WORKERS ?= 2
XDIST = $(if $(filter 0,$(TEST_WORKERS)),,-n $(TEST_WORKERS) --dist loadfile)
test: install
	$(call system-deps,$(TEST_PACKAGES))
	$(PY) -m pytest $(XDIST) $(PYTEST_ARGS)

# The whole suite with every test app on PostgreSQL (a throwaway cluster for the run, made
# by tests/support/pg_cluster.py) instead of SQLite.
test-pg: install
	$(call system-deps,$(TEST_PACKAGES))
	RECON_TEST_DATABASE=postgresql $(PY) -m pytest $(XDIST) $(PYTEST_ARGS)

# The fast tier alone: tests/unit/ needs no root, no host and no browser (tests/conftest.py
# refuses a test there that does), so it runs in seconds as any user and installs no
# Debian package (without promtool its one promtool test skips).
test-fast: install
	$(PY) -m pytest tests/unit $(PYTEST_ARGS)

lint: install
	$(VENV)/bin/ruff check .

bench: install
	$(call system-deps,$(TEST_PACKAGES))
	$(PY) -m bench
	@echo "(not run by default: the scale section, issue 23, ~25 min: make bench-scale)"

# Issue 23's scale rows (500 and 1,000 hosts x 10 units on one real container); e.g.
# make bench-scale SCALE_ARGS="--scale-hosts 500 --recon-tree /work/main --scale-label after"
bench-scale: install
	$(call system-deps,$(TEST_PACKAGES))
	$(PY) -m bench --only scale $(SCALE_ARGS)

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache *.egg-info test-artifacts
