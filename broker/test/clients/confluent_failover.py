"""confluent-kafka (librdkafka) clients for broker/test/cluster-failover.test.ts, one JSON object a line on stdout.

    confluent_failover.py produce BOOTSTRAP TOPIC PARTITIONS [TAG]
        An idempotent acks=all producer writing "TAGP-SEQ" to each partition in turn (SEQ counts per partition)
        until stdin closes, then flushes. Prints {"p", "o", "v"} for each acknowledged record, in the order
        acknowledgements arrive, {"v", "err"} for each one that failed, {"fatal"} on a fatal error.
    confluent_failover.py consume BOOTSTRAP TOPIC PARTITIONS
        Reads every partition from the beginning (no group) until stdin closes: {"p", "o", "v"} per record.
    confluent_failover.py dump BOOTSTRAP TOPIC PARTITIONS
        Reads every partition from the beginning to its high watermark: {"p", "o", "v"} per record, then
        {"end": {partition: high watermark}}.
"""
import json
import os
import sys
import threading
import time

from confluent_kafka import OFFSET_BEGINNING, Consumer, KafkaError, KafkaException, Producer, TopicPartition

out_lock = threading.Lock()


def emit(doc):
    with out_lock:
        sys.stdout.write(json.dumps(doc) + "\n")
        sys.stdout.flush()


def stdin_closed():
    """An event set when the test closes stdin (the way it says stop)."""
    done = threading.Event()

    def wait():
        sys.stdin.read()
        done.set()

    threading.Thread(target=wait, daemon=True).start()
    return done


def produce(bootstrap, topic, partitions, tag=""):
    stop = stdin_closed()

    def on_error(err):
        if err.fatal():
            emit({"fatal": err.str()})

    producer = Producer({
        "bootstrap.servers": bootstrap,
        "enable.idempotence": True,
        "acks": "all",
        "linger.ms": 5,
        # Long enough that no record times out across a failover: each is acknowledged or fails for a reason.
        "message.timeout.ms": 120000,
        "retry.backoff.ms": 50,
        "retry.backoff.max.ms": 500,
        "topic.metadata.refresh.interval.ms": 1000,
        "error_cb": on_error,
        # librdkafka's debug contexts (such as "eos,protocol") on stderr, which a failed fault test keeps.
        **({"debug": os.environ["TSKAFKA_RDKAFKA_DEBUG"]} if os.environ.get("TSKAFKA_RDKAFKA_DEBUG") else {}),
    })

    def delivered(err, msg):
        value = msg.value().decode()
        if err is not None:
            emit({"v": value, "err": err.name()})
        else:
            emit({"p": msg.partition(), "o": msg.offset(), "v": value})

    seq = [0] * partitions
    while not stop.is_set():
        try:
            for p in range(partitions):
                value = ("%s%d-%d" % (tag, p, seq[p])).encode()
                producer.produce(topic, value=value, partition=p, on_delivery=delivered)
                seq[p] += 1
            producer.poll(0.01)
            # Bounded in flight: while no leader takes writes the queue does not grow without end.
            while len(producer) > 2000 and not stop.is_set():
                producer.poll(0.05)
        except KafkaException as e:
            # After a fatal error produce() and poll() raise: say so (error_cb may not have run) and stop.
            if not (e.args[0].fatal() or e.args[0].code() == KafkaError._FATAL):
                raise
            emit({"fatal": e.args[0].str()})
            break
    left = producer.flush(60)
    emit({"sent": seq, "unflushed": left})


def reader(bootstrap, name):
    return Consumer({
        "bootstrap.servers": bootstrap,
        "group.id": name,
        "enable.auto.commit": False,
        "auto.offset.reset": "earliest",
        "topic.metadata.refresh.interval.ms": 1000,
        "fetch.wait.max.ms": 100,
    })


def consume(bootstrap, topic, partitions):
    stop = stdin_closed()
    consumer = reader(bootstrap, "failover-reader")
    consumer.assign([TopicPartition(topic, p, OFFSET_BEGINNING) for p in range(partitions)])
    while not stop.is_set():
        msg = consumer.poll(0.1)
        if msg is None:
            continue
        if msg.error() is not None:
            if msg.error().code() != KafkaError._PARTITION_EOF:
                emit({"error": msg.error().name()})
            continue
        emit({"p": msg.partition(), "o": msg.offset(), "v": msg.value().decode()})
    consumer.close()


def dump(bootstrap, topic, partitions):
    consumer = reader(bootstrap, "failover-dump")
    ends = {p: consumer.get_watermark_offsets(TopicPartition(topic, p), timeout=10)[1] for p in range(partitions)}
    consumer.assign([TopicPartition(topic, p, OFFSET_BEGINNING) for p in range(partitions)])
    position = {p: 0 for p in range(partitions)}
    deadline = time.time() + 60
    while any(position[p] < ends[p] for p in range(partitions)) and time.time() < deadline:
        msg = consumer.poll(0.2)
        if msg is None or msg.error() is not None:
            continue
        position[msg.partition()] = msg.offset() + 1
        emit({"p": msg.partition(), "o": msg.offset(), "v": msg.value().decode()})
    emit({"end": ends, "position": position})
    consumer.close()


if __name__ == "__main__":
    mode, bootstrap, topic, count = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
    {"produce": produce, "consume": consume, "dump": dump}[mode](bootstrap, topic, count, *sys.argv[5:])
