"""``python -m sandbox``: serve the sandbox with uvicorn on SANDBOX_HOST:SANDBOX_PORT (:8900)."""

from __future__ import annotations

import uvicorn

from sandbox.app import create_app
from sandbox.settings import SandboxSettings


def main() -> None:
    settings = SandboxSettings()
    uvicorn.run(
        create_app(settings),
        host=settings.host,
        port=settings.port,
        log_level=settings.log_level,
        access_log=False,
    )


if __name__ == "__main__":
    main()
