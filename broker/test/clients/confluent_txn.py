"""confluent-kafka (librdkafka inside) transactions against the broker, for broker/test/txn-clients.test.ts.

    confluent_txn.py copy BOOTSTRAP INPUT OUTPUT GROUP TXNID COUNT [--abort-every K] [--timeout SECONDS]

Creates both topics (3 partitions; existing ones are fine), produces COUNT records to the input (key kI, value vI,
partition I % 3), then copies the input to the output in a consume-transform-produce loop: a consumer in GROUP
(read_committed, no auto commit) and a transactional producer (init_transactions, begin_transaction, produce,
send_offsets_to_transaction with the consumer's group metadata, commit_transaction). Every K-th transaction is
aborted instead (abort_transaction), and the consumer rewinds to the group's committed offsets (committed(), which
asks for stable offsets under read_committed) to copy those records again. It stops once COUNT records were
copied in committed transactions, then reads the output back with read_committed and read_uncommitted.

Prints one JSON document on stdout; the test decides what is right. Errors are reported by their Kafka names.
"""
import argparse
import json
import sys
import time

from confluent_kafka import Consumer, KafkaException, OFFSET_BEGINNING, Producer, TopicPartition
from confluent_kafka.admin import AdminClient, NewTopic

PARTITIONS = 3
TIMEOUT = 15.0


def error_name(exc):
    if isinstance(exc, KafkaException) and exc.args:
        return exc.args[0].name()
    return "%s: %s" % (type(exc).__name__, exc)


def create_topics(bootstrap, topics):
    admin = AdminClient({"bootstrap.servers": bootstrap})
    futures = admin.create_topics([NewTopic(t, PARTITIONS, 1) for t in topics], request_timeout=TIMEOUT)
    for t, f in futures.items():
        try:
            f.result(timeout=TIMEOUT)
        except KafkaException as e:
            if e.args[0].name() != "TOPIC_ALREADY_EXISTS":
                raise


def produce_input(bootstrap, topic, count):
    p = Producer({"bootstrap.servers": bootstrap, "enable.idempotence": True, "linger.ms": 5})
    for i in range(count):
        p.produce(topic, key="k%d" % i, value="v%d" % i, partition=i % PARTITIONS)
        p.poll(0)
    if p.flush(TIMEOUT) != 0:
        raise RuntimeError("input not flushed")


def read_all(bootstrap, topic, isolation, deadline):
    """Every record of the topic from the beginning to its end (the last stable offset for read_committed)."""
    c = Consumer({"bootstrap.servers": bootstrap, "group.id": "unused-reader", "enable.auto.commit": False,
                  "isolation.level": isolation, "fetch.wait.max.ms": 100, "enable.partition.eof": True})
    try:
        parts = [TopicPartition(topic, p, OFFSET_BEGINNING) for p in range(PARTITIONS)]
        ends = {}
        for tp in parts:
            # cached=False asks the broker (ListOffsets with the consumer's isolation level).
            low, high = c.get_watermark_offsets(tp, timeout=TIMEOUT, cached=False)
            ends[tp.partition] = high
        c.assign(parts)
        out = []
        at_end = set(p for p, e in ends.items() if e == 0)
        while len(at_end) < PARTITIONS and time.time() < deadline:
            m = c.poll(0.5)
            if m is None:
                continue
            if m.error():
                if m.error().name() == "_PARTITION_EOF":
                    at_end.add(m.partition())
                    continue
                raise KafkaException(m.error())
            out.append([m.partition(), m.key().decode(), m.value().decode()])
        return {"records": sorted(out, key=lambda r: r[2]), "ends": ends, "complete": len(at_end) == PARTITIONS}
    finally:
        c.close()


def copy(args):
    deadline = time.time() + args.timeout
    create_topics(args.bootstrap, [args.input, args.output])
    produce_input(args.bootstrap, args.input, args.count)

    consumer = Consumer({"bootstrap.servers": args.bootstrap, "group.id": args.group, "enable.auto.commit": False,
                         "auto.offset.reset": "earliest", "isolation.level": "read_committed",
                         "fetch.wait.max.ms": 100, "session.timeout.ms": 10000})
    producer = Producer({"bootstrap.servers": args.bootstrap, "transactional.id": args.txnid,
                         "transaction.timeout.ms": 30000, "linger.ms": 5})
    result = {"committedTxns": 0, "abortedTxns": 0, "errors": [], "copied": 0, "duplicates": []}
    copied = set()
    try:
        producer.init_transactions(TIMEOUT)
        consumer.subscribe([args.input])
        n = 0
        while len(copied) < args.count and time.time() < deadline:
            msgs = consumer.consume(num_messages=50, timeout=0.5)
            msgs = [m for m in msgs if m.error() is None]
            if not msgs:
                continue
            producer.begin_transaction()
            for m in msgs:
                producer.produce(args.output, key=m.key(), value=b"copy-" + m.value(), partition=m.partition())
            positions = consumer.position(consumer.assignment())
            producer.send_offsets_to_transaction(positions, consumer.consumer_group_metadata(), TIMEOUT)
            if args.abort_every > 0 and n % args.abort_every == args.abort_every - 1:
                # Sent first, so that the aborted records are in the log (abort_transaction purges unsent ones).
                producer.flush(TIMEOUT)
                producer.abort_transaction(TIMEOUT)
                result["abortedTxns"] += 1
                # Back to what the group committed: the aborted records are read again.
                for tp in consumer.committed(consumer.assignment(), timeout=TIMEOUT):
                    offset = tp.offset if tp.offset >= 0 else OFFSET_BEGINNING
                    consumer.seek(TopicPartition(tp.topic, tp.partition, offset))
            else:
                producer.commit_transaction(TIMEOUT)
                result["committedTxns"] += 1
                for m in msgs:
                    v = m.value().decode()
                    if v in copied:
                        result["duplicates"].append(v)
                    copied.add(v)
            n += 1
        result["copied"] = len(copied)
        committed = consumer.committed([TopicPartition(args.input, p) for p in range(PARTITIONS)], timeout=TIMEOUT)
        result["offsets"] = {"%s/%d" % (tp.topic, tp.partition): tp.offset for tp in committed}
    except KafkaException as e:
        result["errors"].append(error_name(e))
    finally:
        consumer.close()
        producer.flush(5)
    result["readCommitted"] = read_all(args.bootstrap, args.output, "read_committed", deadline + 20)
    result["readUncommitted"] = read_all(args.bootstrap, args.output, "read_uncommitted", deadline + 20)
    return result


def main():
    parser = argparse.ArgumentParser()
    sub = parser.add_subparsers(dest="command", required=True)
    c = sub.add_parser("copy")
    c.add_argument("bootstrap")
    c.add_argument("input")
    c.add_argument("output")
    c.add_argument("group")
    c.add_argument("txnid")
    c.add_argument("count", type=int)
    c.add_argument("--abort-every", type=int, default=3)
    c.add_argument("--timeout", type=float, default=40.0)
    args = parser.parse_args()
    json.dump(copy(args), sys.stdout)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
