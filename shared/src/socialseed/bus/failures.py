"""What a consumer retries, for how long, and what it dead-letters at once."""

from __future__ import annotations

import asyncpg
from aiokafka.errors import KafkaError
from sqlalchemy import exc as sa_exc


class PermanentError(Exception):
    """A handler failure that retrying cannot fix: the message goes straight to the DLQ."""


class PoisonMessage(PermanentError):
    """The message cannot be decoded into its contract."""


_INFRA_ERRORS: tuple[type[BaseException], ...] = (
    OSError,  # connection refused/reset, includes ConnectionError
    TimeoutError,
    sa_exc.TimeoutError,  # pool exhausted while connections hang
    sa_exc.OperationalError,
    sa_exc.InterfaceError,
    asyncpg.PostgresConnectionError,
    asyncpg.InterfaceError,  # e.g. ConnectionDoesNotExistError: the connection went away
    asyncpg.exceptions.OperatorInterventionError,  # admin shutdown, pg_terminate_backend
    asyncpg.exceptions.InsufficientResourcesError,  # too many connections
    KafkaError,
)


def infrastructure_failure(exc: BaseException) -> str | None:
    """The reason to retry without limit if ``exc`` (or what caused it) is the database or the
    broker being unavailable, else None: a handler's own failures are not infrastructure."""
    seen: BaseException | None = exc
    for _ in range(5):
        if seen is None:
            return None
        if isinstance(seen, sa_exc.DBAPIError) and seen.connection_invalidated:
            return type(seen).__name__
        if isinstance(seen, _INFRA_ERRORS):
            return type(seen).__name__
        seen = seen.__cause__ or seen.__context__
    return None
