# SocialSeed: `make up` runs the whole system locally, `make test` runs the full suite.
# Both install what is missing (uv, Python deps; Postgres binaries and the Kafka jars on first
# use, see shared/src/socialseed/devstack). No Docker needed.
SHELL := /bin/bash
export PATH := $(HOME)/.local/bin:$(PATH)
MYPY_TARGETS := shared/src/socialseed services/auth/src/auth services/accounts/src/accounts services/gateway/src/gateway services/publisher/src/publisher services/analytics-sync/src/analytics sandbox/src/sandbox

.PHONY: bootstrap bootstrap-browser up test lint fmt bench clean

bootstrap:
	@command -v uv >/dev/null 2>&1 || python3 -m pip install --quiet --user uv || python3 -m pip install --quiet uv
	@uv sync --quiet

# Headless Chromium renders the API docs in the tests (Debian's package).
SUDO := $(shell [ "$$(id -u)" != 0 ] && command -v sudo >/dev/null && echo sudo)
bootstrap-browser:
	@command -v chromium >/dev/null || ($(SUDO) apt-get update -qq && $(SUDO) apt-get install -y -qq chromium)

up: bootstrap
	uv run socialseed up

test: bootstrap bootstrap-browser
	uv run pytest

lint: bootstrap
	uv run ruff check .
	uv run ruff format --check .
	uv run mypy $(MYPY_TARGETS)

fmt: bootstrap
	uv run ruff check --fix .
	uv run ruff format .

bench: bootstrap
	@for b in bench/*.py; do echo "== $$b"; uv run python $$b || exit 1; done

clean:
	rm -rf .data
