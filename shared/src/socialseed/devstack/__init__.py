"""Local infrastructure runtime: real PostgreSQL and Apache Kafka as plain child processes.

Used by both the ``socialseed up`` supervisor and the pytest harness::

    from socialseed.devstack import LocalKafka, LocalPostgres

    with LocalPostgres(Path(".data/pg")) as pg, LocalKafka(Path(".data/kafka")) as kafka:
        pg.ensure_database("auth")
        kafka.create_topics(["auth.events"])

Both classes are synchronous (``start``/``stop`` block until the service is ready/gone), idempotent
to stop, and make sure their process does not outlive the Python parent (see ``procs``).
"""

from socialseed.devstack.kafka import LocalKafka, ensure_jars, kafka_version, libs_dir
from socialseed.devstack.postgres import LocalPostgres, ensure_pg_bindir, find_pg_bindir
from socialseed.devstack.procs import DevstackError

__all__ = [
    "DevstackError",
    "LocalKafka",
    "LocalPostgres",
    "ensure_jars",
    "ensure_pg_bindir",
    "find_pg_bindir",
    "kafka_version",
    "libs_dir",
]
