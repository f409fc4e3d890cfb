# SocialSeed: `make up` runs the whole system locally, `make test` runs the full suite.
# Both install what is missing (uv, Python deps; Postgres binaries, Prometheus and the Kafka jars
# on first use, see shared/src/socialseed/devstack). No Docker needed.
SHELL := /bin/bash
export PATH := $(HOME)/.local/bin:$(PATH)
MYPY_TARGETS := shared/src/socialseed services/auth/src/auth services/accounts/src/accounts services/gateway/src/gateway services/publisher/src/publisher services/analytics-sync/src/analytics services/webhooks/src/webhooks sandbox/src/sandbox bench

.PHONY: bootstrap bootstrap-browser bootstrap-prometheus web-deps web-build up test lint fmt bench clean

bootstrap:
	@command -v uv >/dev/null 2>&1 || python3 -m pip install --quiet --user uv || python3 -m pip install --quiet uv
	@uv sync --quiet

# Headless Chromium renders the API docs in the tests (Debian's package).
SUDO := $(shell [ "$$(id -u)" != 0 ] && command -v sudo >/dev/null && echo sudo)
bootstrap-browser:
	@command -v chromium >/dev/null || ($(SUDO) apt-get update -qq && $(SUDO) apt-get install -y -qq chromium)

# Prometheus and promtool (Debian's package): the rules' tests and the dashboards' query test
# run them; `make up` starts Prometheus (socialseed.devstack.prometheus installs it on first use
# too).
bootstrap-prometheus:
	@command -v promtool >/dev/null || ($(SUDO) apt-get update -qq && $(SUDO) apt-get install -y -qq --no-install-recommends prometheus)

# The web app (web/): `npm ci` when the lock file changed, `vite build` when a source changed.
# The gateway serves web/dist at /.
WEB_SOURCES := $(shell find web/src web/public -type f 2>/dev/null) \
	web/index.html web/vite.config.ts web/tsconfig.json web/package-lock.json

web/node_modules/.package-lock.json: web/package-lock.json
	@command -v npm >/dev/null || (echo "Node.js and npm are needed for the web app" && exit 1)
	cd web && npm ci --no-audit --no-fund
	@touch $@

web/dist/index.html: web/node_modules/.package-lock.json $(WEB_SOURCES)
	cd web && npm run build

web-deps: web/node_modules/.package-lock.json
web-build: web/dist/index.html

up: bootstrap
	@echo "SocialSeed web app: http://127.0.0.1:$${GATEWAY_PORT:-8000}/ (built first if web/ changed)"
	@$(MAKE) --no-print-directory web-build
	uv run socialseed up

# The web app's unit tests (Vitest), then the whole suite; tests/web drives Debian's Chromium.
test: bootstrap bootstrap-browser bootstrap-prometheus web-build
	cd web && npx vitest run
	uv run pytest

lint: bootstrap web-deps
	uv run ruff check .
	uv run ruff format --check .
	uv run mypy $(MYPY_TARGETS)
	cd web && npx eslint . --max-warnings 0
	cd web && npx tsc --noEmit

fmt: bootstrap
	uv run ruff check --fix .
	uv run ruff format .

bench: bootstrap
	@for b in bench/*.py; do echo "== $$b"; uv run python $$b || exit 1; done

clean:
	rm -rf .data
