"""One unit of work: a failed transaction leaves nothing behind; every commit with events wakes
the relay."""

from __future__ import annotations

import uuid

import pytest

from socialseed.db import Database
from socialseed.errors import AppError
from tests.bus.conftest import add_event, effect_count
from tests.bus.schema import effects


class Refused(AppError):
    status_code = 409


async def test_app_error_rolls_the_transaction_back(bus_db: Database) -> None:
    user_id = uuid.uuid4()
    with pytest.raises(Refused):
        async with bus_db.transaction() as session:
            await session.execute(effects.insert().values(user_id=user_id, event_id=uuid.uuid4()))
            raise Refused()
    assert await effect_count(bus_db, user_id) == 0


async def test_a_commit_that_wrote_outbox_rows_wakes_the_relay(bus_db: Database) -> None:
    bus_db.outbox_written.clear()
    await add_event(bus_db, uuid.uuid4())
    assert bus_db.outbox_written.is_set()


def test_database_has_no_second_request_session_dependency() -> None:
    assert not hasattr(Database, "session_dependency")
    assert not hasattr(AppError, "keep_changes")


def test_broker_metrics_are_set_up_explicitly_per_registry() -> None:
    from prometheus_client import CollectorRegistry

    from socialseed import bus

    assert not hasattr(bus, "_prometheus")
    registry = CollectorRegistry()
    metrics = bus.broker_metrics(registry)
    a = bus.make_broker("localhost:9092", client_id="a", metrics=metrics)
    b = bus.make_broker("localhost:9092", client_id="b", metrics=metrics)
    assert a is not b
    assert bus.make_broker("localhost:9092", client_id="c") is not None  # no metrics: fine
