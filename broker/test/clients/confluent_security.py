"""confluent-kafka (librdkafka inside) over TLS and SASL, for broker/test/security-clients.test.ts.

    confluent_security.py roundtrip BOOTSTRAP TOPIC COUNT CONFIG_JSON
    confluent_security.py fail      BOOTSTRAP CONFIG_JSON

CONFIG_JSON holds the client properties (security.protocol, sasl.*, ssl.*); with sasl.mechanisms=OAUTHBEARER,
`oauth_token` (and `oauth_principal`) give the bearer token the client's oauth_cb hands over. `roundtrip` produces COUNT
records and reads them back from the beginning; `fail` expects the connection to be refused and reports what
the client said. Each prints one JSON document on stdout; the test decides what is right.
"""
import json
import sys
import time

from confluent_kafka import Consumer, KafkaException, Producer
from confluent_kafka.admin import AdminClient


def with_token(extra):
    """The client config, with an oauth_cb that returns the given token (valid for an hour to the client)."""
    conf = dict(extra)
    token = conf.pop("oauth_token", None)
    principal = conf.pop("oauth_principal", "unknown")
    if token is not None:
        conf["oauth_cb"] = lambda _config: (token, time.time() + 3600, principal, {})
    return conf


def roundtrip(bootstrap, topic, count, extra):
    extra = with_token(extra)
    errors = []
    conf = dict(extra, **{"bootstrap.servers": bootstrap, "error_cb": lambda e: errors.append(str(e))})
    producer = Producer(dict(conf, **{"linger.ms": 5, "message.timeout.ms": 20000}))
    delivered = []
    failed = []

    def on_delivery(err, msg):
        if err is None:
            delivered.append(msg.offset())
        else:
            failed.append(str(err))

    for i in range(count):
        producer.produce(topic, key=("k%d" % i).encode(), value=("v%d" % i).encode(), on_delivery=on_delivery)
    producer.flush(30)
    consumer = Consumer(dict(conf, **{"group.id": "sec-" + topic, "auto.offset.reset": "earliest",
                                      "enable.auto.commit": False, "fetch.wait.max.ms": 50}))
    consumer.subscribe([topic])
    values = []
    deadline = time.time() + 30
    while len(values) < count and time.time() < deadline:
        msg = consumer.poll(0.5)
        if msg is None:
            continue
        if msg.error():
            errors.append(str(msg.error()))
            continue
        values.append(msg.value().decode())
    consumer.close()
    print(json.dumps({"delivered": len(delivered), "failed": failed, "values": values, "errors": errors[:10]}))


def fail(bootstrap, extra):
    """Connects (the client connects to its bootstrap server by itself) and collects what the error
    callback reports until an authentication error comes, or 10 s pass; then asks for metadata briefly."""
    extra = with_token(extra)
    errors = []
    conf = dict(extra, **{"bootstrap.servers": bootstrap, "log_level": 0, "error_cb": lambda e: errors.append(
        {"name": e.name(), "text": e.str()})})
    admin = AdminClient(conf)
    deadline = time.time() + 10
    while time.time() < deadline and not any(e["name"] == "_AUTHENTICATION" for e in errors):
        admin.poll(0.1)
    listed = None
    try:
        listed = sorted(admin.list_topics(timeout=1).topics.keys())
    except KafkaException as e:
        errors.append({"name": e.args[0].name(), "text": e.args[0].str()})
    print(json.dumps({"listed": listed, "errors": errors[:10]}))


def main(argv):
    if argv[1] == "roundtrip":
        roundtrip(argv[2], argv[3], int(argv[4]), json.loads(argv[5]))
    elif argv[1] == "fail":
        fail(argv[2], json.loads(argv[3]))
    else:
        raise SystemExit("unknown mode " + argv[1])


if __name__ == "__main__":
    main(sys.argv)
