# syntax=docker/dockerfile:1
# One image for every SocialSeed process: the services, the sandbox and the one-shot steps
# (`socialseed topics`, `socialseed migrate`). Each container says which one it runs with its
# command (deploy/docker-compose.yml, deploy/k8s/). A target per service (`--target gateway`)
# is the same image with that command as its default.
#
#   docker build -t socialseed .
#   docker run --rm socialseed socialseed --help

ARG PYTHON_IMAGE=python:3.11-slim-bookworm
ARG NODE_IMAGE=node:20-bookworm-slim
ARG UV_IMAGE=ghcr.io/astral-sh/uv:0.9.5

# ---------------------------------------------------------------- the web app (static build)
FROM ${NODE_IMAGE} AS web
WORKDIR /web
COPY web/package.json web/package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY web/ ./
RUN npm run build

# ---------------------------------------------------------------- uv's binary
FROM ${UV_IMAGE} AS uv

# ---------------------------------------------------------------- Python dependencies and code
FROM ${PYTHON_IMAGE} AS build
COPY --from=uv /uv /usr/local/bin/uv
# Bytecode compiled once here (the runtime's file system may be read-only); a copied, not
# linked, environment; the image's own Python only.
ENV UV_COMPILE_BYTECODE=1 UV_LINK_MODE=copy UV_PYTHON_DOWNLOADS=never \
    UV_PROJECT_ENVIRONMENT=/app/.venv
WORKDIR /src
# The third-party dependencies first, from the lock file alone: a layer that changes only when
# the lock does.
COPY pyproject.toml uv.lock ./
COPY shared/pyproject.toml shared/
COPY services/auth/pyproject.toml services/auth/
COPY services/accounts/pyproject.toml services/accounts/
COPY services/gateway/pyproject.toml services/gateway/
COPY services/publisher/pyproject.toml services/publisher/
COPY services/analytics-sync/pyproject.toml services/analytics-sync/
COPY services/webhooks/pyproject.toml services/webhooks/
COPY sandbox/pyproject.toml sandbox/
RUN uv sync --frozen --no-dev --no-install-workspace
# Then our packages, installed as wheels (not editable: the runtime stage has no /src).
COPY shared/ shared/
COPY services/ services/
COPY sandbox/ sandbox/
RUN uv sync --frozen --no-dev --no-editable

# ---------------------------------------------------------------- what runs
FROM ${PYTHON_IMAGE} AS runtime
ARG VERSION=dev
ARG COMMIT=unknown
LABEL org.opencontainers.image.title="SocialSeed" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.revision="${COMMIT}"
# A user of its own, never root; /data holds what a process writes (media, the development
# signing key) and is where volumes are mounted.
RUN groupadd --system --gid 10001 socialseed \
    && useradd --system --uid 10001 --gid socialseed --home-dir /app --no-create-home \
       --shell /usr/sbin/nologin socialseed \
    && mkdir -p /data/media /data/auth \
    && chown -R socialseed:socialseed /data
WORKDIR /app
COPY --from=build /app/.venv /app/.venv
COPY --from=web /web/dist /app/web/dist
# DL3064 reads "KEY" in a name as a secret: this is where the development signing key is
# written in dev mode (a path under /data, not a key; production sets AUTH_JWT_PRIVATE_KEY
# from a secret).
# hadolint ignore=DL3064
ENV PATH=/app/.venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    GATEWAY_WEB_DIST=/app/web/dist \
    PUBLISHER_MEDIA_DIR=/data/media \
    AUTH_JWT_PRIVATE_KEY_FILE=/data/auth/jwt-ed25519.pem
USER 10001:10001
CMD ["socialseed", "--help"]

# ---------------------------------------------------------------- one target per process
FROM runtime AS auth
EXPOSE 8001
CMD ["python", "-m", "socialseed.run", "auth.app:create_app", "--host", "0.0.0.0", "--port", "8001", "--name", "auth"]

FROM runtime AS accounts
EXPOSE 8002
CMD ["python", "-m", "socialseed.run", "accounts.app:create_app", "--host", "0.0.0.0", "--port", "8002", "--name", "accounts"]

FROM runtime AS publisher
EXPOSE 8003
CMD ["python", "-m", "socialseed.run", "publisher.app:create_app", "--host", "0.0.0.0", "--port", "8003", "--name", "publisher"]

FROM runtime AS analytics
EXPOSE 8004
CMD ["python", "-m", "socialseed.run", "analytics.app:create_app", "--host", "0.0.0.0", "--port", "8004", "--name", "analytics"]

FROM runtime AS webhooks
EXPOSE 8005
CMD ["python", "-m", "socialseed.run", "webhooks.app:create_app", "--host", "0.0.0.0", "--port", "8005", "--name", "webhooks"]

FROM runtime AS sandbox
EXPOSE 8900
CMD ["python", "-m", "socialseed.run", "sandbox.app:create_app", "--host", "0.0.0.0", "--port", "8900", "--name", "sandbox"]

FROM runtime AS gateway
EXPOSE 8000
CMD ["python", "-m", "socialseed.run", "gateway.app:create_app", "--host", "0.0.0.0", "--port", "8000", "--name", "gateway"]
