"""confluent-kafka (librdkafka inside) as one SASL user of a broker with an authorizer, for
broker/test/security-authz.test.ts. Each mode prints one JSON document on stdout; the test decides what is
right. Errors are reported by librdkafka's names (TOPIC_AUTHORIZATION_FAILED, ...).

    confluent_authz.py produce BOOTSTRAP TOPIC COUNT CONFIG_JSON
        produces COUNT records: {"delivered": n, "failed": [error names]}
    confluent_authz.py consume BOOTSTRAP TOPIC GROUP COUNT CONFIG_JSON
        a group member reads up to COUNT records from the beginning and commits them synchronously:
        {"values": [...], "errors": [error names], "committed": [offsets] or null, "commitError": name or null}
    confluent_authz.py txn BOOTSTRAP TXNID TOPIC CONFIG_JSON
        a transactional producer: init, one record, commit: {"stage": where it stopped, "error": name or null}
"""
import json
import sys
import time

from confluent_kafka import Consumer, KafkaException, Producer, TopicPartition


def produce(bootstrap, topic, count, extra):
    conf = dict(extra, **{"bootstrap.servers": bootstrap, "linger.ms": 5, "message.timeout.ms": 15000})
    producer = Producer(conf)
    delivered = []
    failed = []

    def on_delivery(err, msg):
        if err is None:
            delivered.append(msg.offset())
        else:
            failed.append(err.name())

    for i in range(count):
        producer.produce(topic, value=("v%d" % i).encode(), on_delivery=on_delivery)
    producer.flush(30)
    print(json.dumps({"delivered": len(delivered), "failed": sorted(set(failed))}))


def consume(bootstrap, topic, group, count, extra):
    errors = []
    conf = dict(extra, **{"bootstrap.servers": bootstrap, "group.id": group, "auto.offset.reset": "earliest",
                          "enable.auto.commit": False, "fetch.wait.max.ms": 50,
                          "error_cb": lambda e: errors.append(e.name())})
    consumer = Consumer(conf)
    consumer.subscribe([topic])
    values = []
    deadline = time.time() + 20
    last = None
    while len(values) < count and time.time() < deadline:
        msg = consumer.poll(0.3)
        if msg is None:
            continue
        if msg.error():
            errors.append(msg.error().name())
            if not msg.error().retriable() and msg.error().name() != "_PARTITION_EOF":
                break
            continue
        values.append(msg.value().decode())
        last = msg
    committed = None
    commit_error = None
    if last is not None:
        try:
            done = consumer.commit(asynchronous=False)
            committed = [p.offset for p in done]
        except KafkaException as e:
            commit_error = e.args[0].name()
    consumer.close()
    print(json.dumps({"values": values, "errors": sorted(set(errors)), "committed": committed,
                      "commitError": commit_error}))


def txn(bootstrap, txnid, topic, extra):
    conf = dict(extra, **{"bootstrap.servers": bootstrap, "transactional.id": txnid,
                          "transaction.timeout.ms": 10000, "message.timeout.ms": 10000})
    producer = Producer(conf)
    stage = "init"
    try:
        producer.init_transactions(15)
        stage = "begin"
        producer.begin_transaction()
        stage = "produce"
        producer.produce(topic, value=b"txn")
        stage = "commit"
        producer.commit_transaction(15)
        stage = "done"
        print(json.dumps({"stage": stage, "error": None}))
    except KafkaException as e:
        print(json.dumps({"stage": stage, "error": e.args[0].name()}))


def main(argv):
    if argv[1] == "produce":
        produce(argv[2], argv[3], int(argv[4]), json.loads(argv[5]))
    elif argv[1] == "consume":
        consume(argv[2], argv[3], argv[4], int(argv[5]), json.loads(argv[6]))
    elif argv[1] == "txn":
        txn(argv[2], argv[3], argv[4], json.loads(argv[5]))
    else:
        raise SystemExit("unknown mode " + argv[1])


if __name__ == "__main__":
    main(sys.argv)
