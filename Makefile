# Handsup: `make run` to try it, `make test` to check it. Everything else is a step of those two.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
# The browser tests inject axe-core (pinned in tests/browser/package-lock.json) into pages to check accessibility.
# Defined before the rules that name it: make reads a rule's prerequisites as it meets them.
NODE_MODULES := tests/browser/node_modules/.installed
# Debian packages the test suite drives for real. Chromium's fonts are only "recommended" by Debian, and we
# install without recommends, so they are named here (the colour emoji font draws the reactions). The scale tests
# start their own redis-server, PostgreSQL cluster and nginx on loopback (tests/services.py). The image tests
# (tests/image) build the Dockerfile and run it with podman on runc (crun refuses this kind of machine's cgroups),
# on a base image made with debootstrap when no registry can serve the official one. The slide import converts
# PowerPoint decks with LibreOffice: libreoffice-impress-nogui is the smallest set that does it headless (Impress and
# Draw without a display toolkit: 53 packages, about 230 MB, no Java); the Docker image leaves it out (docs/deploy.md).
# The room-mode tests read the machine's addresses with iproute2's `ip` (tests/server/test_room.py), and
# libreoffice-calc-nogui renders archive workbooks in the tests (docs/archives.md).
SYSTEM_PACKAGES := chromium fonts-liberation fonts-dejavu-core fonts-noto-color-emoji redis-server postgresql nginx \
	podman runc debootstrap libreoffice-impress-nogui libreoffice-calc-nogui iproute2

.PHONY: run test lint typecheck pytest system-deps bench bench-full messages lock clean

# `make run LAN=1` is room mode (`handsup serve --lan`): it listens on the network, and join links and QR codes carry
# this machine's address there, for phones on the same Wi-Fi (README, "Running a session in a room").
run: $(VENV)/.run-installed ## install into .venv and serve http://127.0.0.1:8000 (SQLite, example deck); LAN=1: phones on this Wi-Fi can join
	HANDSUP_ENV=$${HANDSUP_ENV:-development} $(BIN)/handsup serve $(if $(filter-out 0 no false,$(LAN)),--lan)

test: system-deps $(VENV)/.test-installed $(NODE_MODULES) lint typecheck pytest ## install what the suite needs, then run all of it

# The suite in two parts. The tests that run in one process (TestClient, the database, one uvicorn) go to two
# workers, one a core (pytest-xdist). Then, one at a time, the tests that share the machine with something heavy:
# real browsers, several servers on PostgreSQL and Redis, the image build, and the ones that count per minute.
SOLO := browser or scale or image or alone

pytest: $(VENV)/.test-installed $(NODE_MODULES)
	$(BIN)/python -m pytest -n 2 -m "not ($(SOLO))"
	$(BIN)/python -m pytest -m "$(SOLO)"

CODE := server activities handsup_client tests bench requirements examples

lint: $(VENV)/.test-installed
	$(BIN)/ruff check $(CODE)
	$(BIN)/ruff format --check $(CODE)
	$(BIN)/lint-imports --no-cache

typecheck: $(VENV)/.test-installed
	$(BIN)/mypy

# Each profile's run is drawn into docs/benchmarks/*-quick.svg or *-full.svg (bench/charts.py), which
# docs/benchmarks.md shows: commit them with the figures they belong to.
bench: $(VENV)/.test-installed ## the quick benchmark profile and its charts, then the slide import's, the editor preview's and the first load on Slow 3G; writes bench/results/*.json
	$(BIN)/python -m bench.run --profile quick
	$(BIN)/python -m bench.charts bench/results/latest.json docs/benchmarks
	$(BIN)/python -m bench.slide_import
	$(BIN)/python -m bench.editor_preview
	$(BIN)/python -m bench.firstload

# The full profile's poll on one worker on SQLite, one on PostgreSQL, and two on PostgreSQL and Redis behind nginx, side
# by side under `deployments` (docs/benchmarks.md); `make bench` (quick) stays on SQLite alone, to stay under 2 minutes.
bench-full: $(VENV)/.test-installed
	$(BIN)/python -m bench.run --profile full --deployment all
	$(BIN)/python -m bench.charts bench/results/latest.json docs/benchmarks

# The message catalogues (docs/translating.md): the .pot from the sources, then every language's .po from the .pot.
# New or changed messages come out untranslated or fuzzy, which tests/server/test_i18n.py refuses until translated.
messages: $(VENV)/.run-installed ## refresh server/locales/messages.pot and every catalogue from the sources
	$(BIN)/pybabel extract -F babel.cfg --no-location --sort-output --project Handsup \
	  --copyright-holder "Handsup contributors" -o server/locales/messages.pot .
	$(BIN)/pybabel update -i server/locales/messages.pot -d server/locales --ignore-obsolete

# Installs come from the lock (requirements/*.txt, compiled from pyproject.toml's ranges by `make lock`): every
# package at the version the suite passed with, checked against its hashes, nothing resolved at install time.
$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

INSTALL_LOCKED = $(BIN)/python -m pip install --quiet --require-hashes --no-deps -r
INSTALL_PROJECT = $(BIN)/python -m pip install --quiet --no-deps --no-build-isolation -e .

$(VENV)/.run-installed: requirements/run.txt pyproject.toml | $(BIN)/python
	$(INSTALL_LOCKED) requirements/run.txt
	$(INSTALL_PROJECT)
	touch $@

# `make lock` keeps the pins that still fit pyproject.toml and resolves the rest; `make lock UPGRADE=--upgrade` takes
# every package to its newest within the ranges; `UPGRADE="--upgrade-package NAME"` only that one (docs/deploy.md).
lock: $(VENV)/.test-installed ## refresh requirements/*.txt from pyproject.toml's ranges (then run make test)
	$(BIN)/python requirements/lock.py $(UPGRADE)

$(NODE_MODULES): tests/browser/package.json tests/browser/package-lock.json
	@if ! command -v npm >/dev/null; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    echo "Installing npm (for axe-core and oidc-provider)"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends npm; \
	  else \
	    echo "The browser tests need Node.js and npm (for axe-core and oidc-provider): install them, e.g. apt-get install npm" >&2; exit 1; \
	  fi; \
	fi
	npm ci --prefix tests/browser --no-audit --no-fund
	touch $@

$(VENV)/.test-installed: requirements/test.txt pyproject.toml | $(BIN)/python
	$(INSTALL_LOCKED) requirements/test.txt
	$(INSTALL_PROJECT)
	touch $@ $(VENV)/.run-installed

# Installs what is missing by apt-get when run as root; otherwise says what to install and stops.
system-deps:
	@missing=""; \
	for package in $(SYSTEM_PACKAGES); do \
	  dpkg-query -W -f='$${Status}' "$$package" 2>/dev/null | grep -q "install ok installed" \
	    || missing="$$missing $$package"; \
	done; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    echo "Installing system packages:$$missing"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing; \
	  else \
	    echo "The test suite needs these system packages:$$missing (install them, e.g. with apt-get, as root)" >&2; \
	    exit 1; \
	  fi; \
	fi

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache .hypothesis tests/browser/screenshots tests/browser/node_modules
