"""The Kafka bus: a FastStream broker per service and event consumers with an inbox.

Consumers never use FastStream's default ack policy (ACK_FIRST turns auto-commit on, so a
consumer killed mid-handler would lose the message). Each message is handled in one database
transaction that also records its event id in the inbox. A failure of the handler itself is
retried a bounded number of times with jittered backoff, then dead-lettered to ``<topic>.dlq``;
a failure of the infrastructure (database or broker unreachable) holds the partition and is
retried without limit, so a database blip never dead-letters healthy events. The offset is
committed only after that (in batches, see ``OffsetCommits``), so nothing is lost.

A batch handler (``EventConsumer.batch_handler``) gets up to N messages of one partition at a
time and applies them in one transaction: one inbox insert claims all their ids (ids already
there are redeliveries and left out), the handler gets the new events, and the offset is
committed after the transaction. If the handler fails on the batch, its events are applied
again one by one, each in its own transaction with the policy above, so a poison message is
dead-lettered alone and the rest commit.
"""

from socialseed.bus.broker import dlq_topic, kafka_group, make_broker
from socialseed.bus.consumer import EventConsumer
from socialseed.bus.failures import PermanentError, PoisonMessage, infrastructure_failure
from socialseed.bus.inbox import Inbox
from socialseed.bus.metrics import broker_metrics, process_broker_metrics
from socialseed.bus.offsets import OffsetCommits
from socialseed.bus.records import BatchHandler, EventMeta, Handler, Record, decode

__all__ = [
    "BatchHandler",
    "EventConsumer",
    "EventMeta",
    "Handler",
    "Inbox",
    "OffsetCommits",
    "PermanentError",
    "PoisonMessage",
    "Record",
    "broker_metrics",
    "decode",
    "dlq_topic",
    "infrastructure_failure",
    "kafka_group",
    "make_broker",
    "process_broker_metrics",
]
