"""A confluent-kafka (librdkafka) group consumer in a rack, for broker/test/cluster-follower-fetch.test.ts.

    confluent_rack_consumer.py BOOTSTRAP TOPIC GROUP RACK COUNT
        Subscribes with client.rack=RACK, reads from the beginning until COUNT records came (at most 60 s),
        then prints {"count": n} on stdout (and exits 1 when fewer came).
"""
import json
import sys
import time

from confluent_kafka import Consumer

bootstrap, topic, group, rack, count = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4], int(sys.argv[5])
consumer = Consumer(
    {
        "bootstrap.servers": bootstrap,
        "group.id": group,
        "client.rack": rack,
        "auto.offset.reset": "earliest",
        "enable.auto.commit": False,
    }
)
consumer.subscribe([topic])
seen = 0
deadline = time.time() + 60
while seen < count and time.time() < deadline:
    m = consumer.poll(0.5)
    if m is None:
        continue
    if m.error():
        print(json.dumps({"error": str(m.error())}), file=sys.stderr)
        continue
    seen += 1
consumer.close()
print(json.dumps({"count": seen}))
sys.exit(0 if seen >= count else 1)
