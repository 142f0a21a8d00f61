"""kafka-python round trip for the broker tests: produce with a codec, then read the partitions back
with assigned partitions (no group). Prints one JSON line per record read, then a summary line."""
import json
import sys

from kafka import KafkaConsumer, KafkaProducer, TopicPartition

bootstrap, topic, codec, partitions, per_partition = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), int(sys.argv[5])

producer = KafkaProducer(bootstrap_servers=bootstrap, client_id="tskafka-test", acks="all",
                         compression_type=None if codec == "none" else codec, linger_ms=5, batch_size=4096,
                         request_timeout_ms=10000, max_block_ms=10000)
futures = []
for p in range(partitions):
    for i in range(per_partition):
        futures.append(producer.send(topic, partition=p, key=b"k%d-%d" % (p, i),
                                     value=("%s value %d/%d " % (codec, p, i)).encode() + b"z" * (i * 13),
                                     headers=[("codec", codec.encode()), ("seq", b"%d" % i)]))
acked = [f.get(timeout=10) for f in futures]
producer.close(timeout=10)

consumer = KafkaConsumer(bootstrap_servers=bootstrap, client_id="tskafka-test", group_id=None,
                         enable_auto_commit=False, fetch_max_wait_ms=50, max_partition_fetch_bytes=2048,
                         request_timeout_ms=11000, consumer_timeout_ms=5000)
tps = [TopicPartition(topic, p) for p in range(partitions)]
consumer.assign(tps)
consumer.seek_to_beginning(*tps)
want = partitions * per_partition
got = 0
for m in consumer:
    print(json.dumps({"partition": m.partition, "offset": m.offset, "key": m.key.decode(), "value": m.value.decode(),
                      "headers": [[k, v.decode()] for k, v in m.headers]}))
    got += 1
    if got == want:
        break
consumer.close()
print(json.dumps({"acked": [[a.partition, a.offset] for a in acked]}))
