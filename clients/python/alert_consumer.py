"""Follows kam's alert stream (the Kafka topic kam.alerts.v1) the way an operations team's
consumer would: each record is a CloudEvent in structured JSON mode, decoded with the CloudEvents
SDK; only committed records are read (kam publishes in Kafka transactions); an event seen before
(same id: "<alert id>/<etag>", after a consumer restart) is skipped.

  clients/python/run alert-consumer --brokers 127.0.0.1:9092 [--group ops-pager]
      [--max-events N] [--idle-seconds S] [--until-manager ID]

Prints one line per alert change. It stops after --max-events changes, after the first change
of an alert about manager --until-manager, or after --idle-seconds without a record; it exits 1
when it saw no change (or, with --until-manager, none about that manager).
"""

import argparse
import sys
import time

from cloudevents.core.bindings.kafka import KafkaMessage, from_structured_event
from confluent_kafka import Consumer, KafkaError


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--brokers", required=True)
    parser.add_argument("--group", default="kam-python-alert-consumer")
    parser.add_argument("--topic", default="kam.alerts.v1")
    parser.add_argument("--max-events", type=int, default=0, help="0 = follow forever")
    parser.add_argument("--idle-seconds", type=float, default=0, help="0 = wait forever")
    parser.add_argument("--until-manager", default="", help="stop at this manager's first alert")
    args = parser.parse_args()

    consumer = Consumer(
        {
            "bootstrap.servers": args.brokers,
            "group.id": args.group,
            "auto.offset.reset": "earliest",
            "isolation.level": "read_committed",
            "enable.auto.commit": True,
        }
    )
    consumer.subscribe([args.topic])
    seen, events, found = set(), 0, False
    last_record = time.monotonic()
    try:
        while args.max_events == 0 or events < args.max_events:
            record = consumer.poll(0.5)
            if record is None:
                if args.idle_seconds and time.monotonic() - last_record > args.idle_seconds:
                    break
                continue
            if record.error():
                if record.error().code() != KafkaError._PARTITION_EOF:
                    print(f"kafka: {record.error()}", file=sys.stderr)
                continue
            last_record = time.monotonic()
            headers = {key: value for key, value in (record.headers() or [])}
            event = from_structured_event(
                KafkaMessage(headers=headers, key=record.key(), value=record.value())
            )
            if event.get_id() in seen:
                continue  # a change delivered again after a restart: handled already
            seen.add(event.get_id())
            events += 1
            data = event.get_data()
            alert = data if isinstance(data, dict) else {}  # the Alert, as protobuf JSON
            print(
                f"{event.get_type()} {event.get_subject()} "
                f"{alert.get('rule', '?')} {alert.get('state', '?')}: {alert.get('summary', '')}"
            )
            sys.stdout.flush()
            if args.until_manager and alert.get("manager_id") == args.until_manager:
                found = True
                break
    finally:
        consumer.close()
    if events == 0 or (args.until_manager and not found):
        print("alert consumer: no alert change arrived", file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()
