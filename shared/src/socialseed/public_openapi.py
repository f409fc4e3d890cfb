"""The public API's OpenAPI document as the gateway merges it, built in-process: each service's
app is created (dev settings, nothing started, no server, no database reached) and asked for
its own document, then merged by the gateway's own ``merge``. The web app's client is
generated from this (``socialseed openapi --out web/openapi.json``)."""

from __future__ import annotations

import importlib
import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, cast

from socialseed.stack import SERVICES


@contextmanager
def _dev_environment(tmp: Path) -> Iterator[None]:
    values = {f"{spec.env_prefix}DEV_MODE": "true" for spec in SERVICES}
    values["AUTH_JWT_PRIVATE_KEY_FILE"] = str(tmp / "jwt.pem")
    values["PUBLISHER_MEDIA_DIR"] = str(tmp / "media")
    saved = {name: os.environ.get(name) for name in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def document() -> dict[str, Any]:
    merge = importlib.import_module("gateway.openapi").merge
    specs: list[dict[str, Any] | None] = []
    with tempfile.TemporaryDirectory() as tmp, _dev_environment(Path(tmp)):
        for spec in SERVICES:
            if spec.name == "gateway":
                continue
            module, factory = spec.app.split(":")
            app = getattr(importlib.import_module(module), factory)()
            specs.append(app.openapi())
    merged, collisions = merge(specs)
    if collisions:
        raise RuntimeError(f"OpenAPI components differ between services: {sorted(collisions)}")
    return cast(dict[str, Any], merged)
