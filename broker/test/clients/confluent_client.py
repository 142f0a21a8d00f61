"""confluent-kafka (librdkafka inside) against the broker, for broker/test/clients-confluent.test.ts.

    confluent_client.py admin   BOOTSTRAP PREFIX
    confluent_client.py produce BOOTSTRAP TOPIC CODEC PARTITIONS PER_PARTITION [--no-readback]
    confluent_client.py group   BOOTSTRAP TOPIC GROUP COUNT [--protocol classic|consumer] [--extra-wait SECONDS]
                                [--settle] [--partitions N] [--timeout SECONDS]

Each prints one JSON document on stdout; the test decides what is right. Errors the broker returns are
reported by their Kafka names (e.g. TOPIC_ALREADY_EXISTS) so the test can compare them exactly.
"""
import argparse
import json
import sys
import time

from confluent_kafka import (Consumer, ConsumerGroupTopicPartitions, KafkaException, Producer, TopicCollection,
                             TopicPartition)
from confluent_kafka.admin import (AdminClient, AlterConfigOpType, ConfigEntry, ConfigResource, ConfigSource,
                                   NewPartitions, NewTopic, ResourceType)

TIMEOUT = 10.0


def error_name(exc):
    """The Kafka error name of a failed future (KafkaException), or the exception text."""
    if isinstance(exc, KafkaException) and exc.args:
        return exc.args[0].name()
    return "%s: %s" % (type(exc).__name__, exc)


def outcome(future):
    """None when the future succeeded, else the error name."""
    try:
        future.result(timeout=TIMEOUT)
        return None
    except Exception as e:  # noqa: BLE001 - reported to the test
        return error_name(e)


def settle(get, ready, seconds=5.0):
    """`get()` again until `ready` holds of it or `seconds` pass; the last value either way."""
    deadline = time.time() + seconds
    value = get()
    while not ready(value) and time.time() < deadline:
        time.sleep(0.1)
        value = get()
    return value


def enum_name(v):
    return getattr(v, "name", str(v))


# --- admin -------------------------------------------------------------------------------------------

def describe_topic_configs(admin, topic, keys):
    res = ConfigResource(ResourceType.TOPIC, topic)
    entries = admin.describe_configs([res], request_timeout=TIMEOUT)[res].result(timeout=TIMEOUT)
    return {k: {"value": entries[k].value, "source": enum_name(ConfigSource(entries[k].source)),
                "default": entries[k].is_default, "readOnly": entries[k].is_read_only}
            for k in keys if k in entries}


def describe_groups(admin, group):
    desc = admin.describe_consumer_groups([group], request_timeout=TIMEOUT)[group].result(timeout=TIMEOUT)
    return {
        "state": enum_name(desc.state),
        "type": enum_name(desc.type),
        "simple": desc.is_simple_consumer_group,
        "assignor": desc.partition_assignor,
        "coordinator": desc.coordinator.id,
        "members": sorted(({"clientId": m.client_id, "memberIdNonEmpty": len(m.member_id) > 0,
                            "host": m.host, "instanceId": m.group_instance_id,
                            "assignment": sorted([tp.topic, tp.partition] for tp in m.assignment.topic_partitions)}
                           for m in desc.members), key=lambda m: m["clientId"]),
    }


def listed_groups(admin):
    res = admin.list_consumer_groups(request_timeout=TIMEOUT).result(timeout=TIMEOUT)
    return {"valid": sorted(([g.group_id, g.is_simple_consumer_group, enum_name(g.state), enum_name(g.type)] for g in res.valid)),
            "errors": [str(e) for e in res.errors]}


def cmd_admin(args):
    admin = AdminClient({"bootstrap.servers": args.bootstrap, "client.id": "tskafka-admin"})
    out = {}
    a, b, v = args.prefix + "-a", args.prefix + "-b", args.prefix + "-validate"

    # Metadata v12 for all topics: the request librdkafka sends with trailing bytes.
    md = admin.list_topics(timeout=TIMEOUT)
    out["metadata"] = {"brokers": {str(k): "%s:%d" % (x.host, x.port) for k, x in md.brokers.items()},
                       "controller": md.controller_id, "clusterIdNonEmpty": bool(md.cluster_id),
                       "topics": sorted(md.topics)}

    fs = admin.create_topics([
        NewTopic(a, num_partitions=3, replication_factor=1,
                 config={"retention.ms": "3600000", "cleanup.policy": "compact", "max.message.bytes": "200000"}),
        NewTopic(b, num_partitions=2, replication_factor=-1),
    ], operation_timeout=TIMEOUT, request_timeout=TIMEOUT)
    out["create"] = {t: outcome(f) for t, f in fs.items()}
    fs = admin.create_topics([NewTopic(a, num_partitions=1)], request_timeout=TIMEOUT)
    out["createAgain"] = {t: outcome(f) for t, f in fs.items()}
    fs = admin.create_topics([NewTopic(v, num_partitions=5)], validate_only=True, request_timeout=TIMEOUT)
    out["createValidateOnly"] = {t: outcome(f) for t, f in fs.items()}
    fs = admin.create_topics([NewTopic(args.prefix + "-badconfig", num_partitions=1, config={"cleanup.policy": "sometimes"})],
                             request_timeout=TIMEOUT)
    out["createBadConfig"] = {t: outcome(f) for t, f in fs.items()}

    fs = admin.create_partitions([NewPartitions(b, 4)], request_timeout=TIMEOUT)
    out["createPartitions"] = {t: outcome(f) for t, f in fs.items()}

    # Apache Kafka's brokers learn of new partitions and configs a moment after the controller answers;
    # what they serve is waited for (bounded), so this script gives the same answers on both.
    md = settle(lambda: admin.list_topics(timeout=TIMEOUT), lambda md: b in md.topics and len(md.topics[b].partitions) == 4)
    out["listed"] = {t: sorted(md.topics[t].partitions) for t in sorted(md.topics) if not t.startswith("__")}

    described = {}
    for t, f in admin.describe_topics(TopicCollection([a, b]), request_timeout=TIMEOUT).items():
        d = f.result(timeout=TIMEOUT)
        described[t] = {"name": d.name, "internal": d.is_internal, "topicIdNonZero": str(d.topic_id) != "AAAAAAAAAAAAAAAAAAAAAA",
                        "partitions": [[p.id, p.leader.id, [r.id for r in p.replicas], [r.id for r in p.isr]] for p in d.partitions]}
    out["describeTopics"] = described
    out["describeUnknownTopic"] = outcome(admin.describe_topics(TopicCollection([args.prefix + "-missing"]),
                                                                request_timeout=TIMEOUT)[args.prefix + "-missing"])

    keys = ["retention.ms", "cleanup.policy", "max.message.bytes", "segment.bytes"]
    out["configsBefore"] = describe_topic_configs(admin, a, keys)
    res = ConfigResource(ResourceType.TOPIC, a, incremental_configs=[
        ConfigEntry("retention.ms", "7200000", incremental_operation=AlterConfigOpType.SET),
        ConfigEntry("cleanup.policy", None, incremental_operation=AlterConfigOpType.DELETE),
        ConfigEntry("segment.bytes", "1048576", incremental_operation=AlterConfigOpType.SET),
    ])
    out["alter"] = outcome(admin.incremental_alter_configs([res], request_timeout=TIMEOUT)[res])
    out["configsAfter"] = settle(lambda: describe_topic_configs(admin, a, keys), lambda c: c["retention.ms"]["value"] == "7200000")
    bad = ConfigResource(ResourceType.TOPIC, a, incremental_configs=[
        ConfigEntry("retention.ms", "soon", incremental_operation=AlterConfigOpType.SET)])
    out["alterBad"] = outcome(admin.incremental_alter_configs([bad], request_timeout=TIMEOUT)[bad])
    out["configsAfterBad"] = describe_topic_configs(admin, a, ["retention.ms"])

    # A live group: one classic member that consumes what was produced to b and commits.
    group = args.prefix + "-group"
    producer = Producer({"bootstrap.servers": args.bootstrap, "acks": "all", "linger.ms": 5})
    produce_errors = []
    for i in range(8):
        producer.produce(b, value=b"g%d" % i, partition=i % 4,
                         on_delivery=lambda err, msg: err is not None and produce_errors.append(err.name()))
    out["groupProduceUnflushed"] = producer.flush(TIMEOUT)
    out["groupProduceErrors"] = produce_errors
    consumer = Consumer({"bootstrap.servers": args.bootstrap, "group.id": group, "client.id": "tskafka-member",
                         "auto.offset.reset": "earliest", "enable.auto.commit": False, "fetch.wait.max.ms": 50})
    consumer.subscribe([b])
    seen = []
    deadline = time.time() + 20
    while len(seen) < 8 and time.time() < deadline:
        m = consumer.poll(0.2)
        if m is not None and m.error() is None:
            seen.append(m.value().decode())
    out["groupSeen"] = sorted(seen)
    committed = consumer.commit(asynchronous=False)
    out["groupCommitted"] = sorted([tp.partition, tp.offset] for tp in committed)
    out["groupsWhileActive"] = listed_groups(admin)
    out["describeWhileActive"] = describe_groups(admin, group)
    offs = admin.list_consumer_group_offsets([ConsumerGroupTopicPartitions(group)], request_timeout=TIMEOUT)[group].result(timeout=TIMEOUT)
    out["groupOffsets"] = sorted([tp.topic, tp.partition, tp.offset] for tp in offs.topic_partitions)
    out["deleteActiveGroup"] = outcome(admin.delete_consumer_groups([group], request_timeout=TIMEOUT)[group])
    consumer.close()
    out["describeAfterClose"] = describe_groups(admin, group)
    out["deleteGroup"] = outcome(admin.delete_consumer_groups([group], request_timeout=TIMEOUT)[group])
    out["groupsAfterDelete"] = listed_groups(admin)

    fs = admin.delete_topics([a, b], operation_timeout=TIMEOUT, request_timeout=TIMEOUT)
    out["delete"] = {t: outcome(f) for t, f in fs.items()}
    fs = admin.delete_topics([args.prefix + "-missing"], request_timeout=TIMEOUT)
    out["deleteUnknown"] = {t: outcome(f) for t, f in fs.items()}
    out["topicsAfterDelete"] = sorted(admin.list_topics(timeout=TIMEOUT).topics)
    print(json.dumps(out))


# --- produce -----------------------------------------------------------------------------------------

def record_key(p, i):
    return "k%d-%d" % (p, i)


def record_value(codec, p, i):
    # Repetitive text so that every codec really shrinks it.
    return "%s value %d/%d %s" % (codec, p, i, "abc" * (i * 5))


def cmd_produce(args):
    conf = {"bootstrap.servers": args.bootstrap, "client.id": "tskafka-producer", "acks": "all",
            "enable.idempotence": True, "linger.ms": 5, "batch.num.messages": 7,
            "compression.type": args.codec}
    producer = Producer(conf)
    reports = []

    def on_delivery(err, msg):
        reports.append({"error": None if err is None else err.name(), "partition": msg.partition(),
                        "offset": msg.offset(), "key": msg.key().decode()})

    for i in range(args.per_partition):
        for p in range(args.partitions):
            producer.produce(args.topic, key=record_key(p, i), value=record_value(args.codec, p, i), partition=p,
                             headers=[("codec", args.codec.encode()), ("seq", b"%d" % i), ("empty", b"")],
                             on_delivery=on_delivery)
        producer.poll(0)
    unflushed = producer.flush(TIMEOUT * 2)
    out = {"unflushed": unflushed, "reports": reports}

    if not args.no_readback:
        consumer = Consumer({"bootstrap.servers": args.bootstrap, "group.id": "tskafka-unused", "client.id": "tskafka-reader",
                             "enable.auto.commit": False, "fetch.wait.max.ms": 50, "max.partition.fetch.bytes": 4096})
        consumer.assign([TopicPartition(args.topic, p, 0) for p in range(args.partitions)])
        records = []
        want = args.partitions * args.per_partition
        deadline = time.time() + 20
        while len(records) < want and time.time() < deadline:
            m = consumer.poll(0.2)
            if m is None:
                continue
            if m.error() is not None:
                out.setdefault("consumeErrors", []).append(m.error().name())
                continue
            records.append({"partition": m.partition(), "offset": m.offset(), "key": m.key().decode(),
                            "value": m.value().decode(),
                            "headers": [[k, v.decode()] for k, v in (m.headers() or [])]})
        consumer.close()
        out["records"] = records
    print(json.dumps(out))


# --- group -------------------------------------------------------------------------------------------

class Member:
    """A group member that commits what it has processed whenever partitions are taken from it."""

    def __init__(self, index, args):
        self.name = "member-%d" % index
        self.topic = args.topic
        conf = {"bootstrap.servers": args.bootstrap, "group.id": args.group, "client.id": self.name,
                "auto.offset.reset": "earliest", "enable.auto.commit": False, "fetch.wait.max.ms": 50,
                "max.partition.fetch.bytes": 2048}
        if args.protocol == "consumer":
            conf["group.protocol"] = "consumer"
        else:
            conf["session.timeout.ms"] = 10000
            conf["heartbeat.interval.ms"] = 500
        self.consumer = Consumer(conf)
        self.events = []
        self.records = []
        self.commit_errors = []
        self.next_offset = {}  # partition -> offset after the last processed record
        self.committed = {}  # partition -> offset this member last committed successfully
        self.held = 0
        self.closing = False

    def subscribe(self):
        self.consumer.subscribe([self.topic], on_assign=self._on_assign, on_revoke=self._on_revoke, on_lost=self._on_lost)

    def _on_assign(self, consumer, partitions):
        self.events.append(["assign", sorted(tp.partition for tp in partitions)])

    def _on_revoke(self, consumer, partitions):
        revoked = sorted(tp.partition for tp in partitions)
        self.events.append(["revoke", revoked])
        self.commit([p for p in revoked if p in self.next_offset])
        for p in revoked:
            self.next_offset.pop(p, None)

    def _on_lost(self, consumer, partitions):
        self.events.append(["lost", sorted(tp.partition for tp in partitions)])

    def commit(self, partitions):
        # Offsets already committed are not sent again: inside close(), librdkafka 2.16 may run the revoke
        # callback after it has left a KIP-848 group, where a repeated commit is refused (UNKNOWN_MEMBER_ID);
        # a commit that carries new offsets is still checked, and the restart checks what was committed.
        partitions = [p for p in partitions if self.committed.get(p) != self.next_offset[p]]
        if not partitions:
            return
        try:
            self.consumer.commit(offsets=[TopicPartition(self.topic, p, self.next_offset[p]) for p in partitions],
                                 asynchronous=False)
            for p in partitions:
                self.committed[p] = self.next_offset[p]
        except KafkaException as e:
            # Where it happened, for the test's message: at the end of the run or inside close().
            self.commit_errors.append("%s%s of %s" % ("close: " if self.closing else "", error_name(e), partitions))
            self.events.append(["commit-error", error_name(e), partitions])

    def hold(self, timeout):
        """Drives the group protocol without processing: every assigned partition stays paused, and a record
        fetched before its partition was paused is put back (seek to it) for whoever owns it later."""
        m = self.consumer.poll(timeout)
        assigned = self.consumer.assignment()
        if assigned:
            self.consumer.pause(assigned)
        if m is not None and m.error() is None:
            self.consumer.seek(TopicPartition(m.topic(), m.partition(), m.offset()))
            self.held += 1

    def poll(self, timeout):
        m = self.consumer.poll(timeout)
        if m is None:
            return None
        if m.error() is not None:
            self.events.append(["error", m.error().name()])
            return None
        self.next_offset[m.partition()] = m.offset() + 1
        rec = [m.partition(), m.offset(), m.value().decode()]
        self.records.append(rec)
        return rec


def cmd_group(args):
    members = [Member(i, args) for i in range(2)]
    for m in members:
        m.subscribe()
    settled = None
    if args.settle:
        # Wait until every partition is owned and the two members' shares are as even as they can be,
        # then consume: the test then knows which member reads which partitions.
        deadline = time.time() + args.timeout
        while time.time() < deadline:
            for m in members:
                m.hold(0.05)
            shares = [sorted(tp.partition for tp in m.consumer.assignment()) for m in members]
            owned = sorted(p for share in shares for p in share)
            if owned == list(range(args.partitions)) and max(map(len, shares)) - min(map(len, shares)) <= 1:
                settled = shares
                break
        for m in members:
            m.consumer.resume(m.consumer.assignment())
    total = 0
    deadline = time.time() + args.timeout
    while total < args.count and time.time() < deadline:
        for m in members:
            if total < args.count and m.poll(0.05) is not None:
                total += 1
    # Anything served after the expected count is a duplicate or a record that should not exist.
    extra = []
    extra_deadline = time.time() + args.extra_wait
    while time.time() < extra_deadline:
        for m in members:
            rec = m.poll(0.05)
            if rec is not None:
                extra.append([m.name] + rec)
    out = {"members": {}, "extra": extra, "timedOut": total < args.count, "settled": settled,
           "held": sum(m.held for m in members)}
    for m in members:
        assignment = sorted(tp.partition for tp in m.consumer.assignment())
        m.commit(sorted(p for p in m.next_offset if p in assignment))
        out["members"][m.name] = {"assignment": assignment, "events": list(m.events), "records": m.records}
    # Read back after both members committed: the group's offsets as the coordinator has them.
    committed = members[0].consumer.committed([TopicPartition(args.topic, p) for p in range(args.partitions)], timeout=TIMEOUT)
    out["committed"] = [[tp.partition, tp.offset] for tp in committed]
    # The group as the coordinator describes it while both members are in it.
    admin = AdminClient({"bootstrap.servers": args.bootstrap, "client.id": "tskafka-admin"})
    out["describe"] = describe_groups(admin, args.group)
    for m in members:
        m.closing = True
        m.consumer.close()
        out["members"][m.name]["eventsOnClose"] = m.events[len(out["members"][m.name]["events"]):]
        out["members"][m.name]["commitErrors"] = m.commit_errors
    print(json.dumps(out))


def main():
    parser = argparse.ArgumentParser()
    sub = parser.add_subparsers(dest="cmd", required=True)
    p = sub.add_parser("admin")
    p.add_argument("bootstrap")
    p.add_argument("prefix")
    p = sub.add_parser("produce")
    p.add_argument("bootstrap")
    p.add_argument("topic")
    p.add_argument("codec")
    p.add_argument("partitions", type=int)
    p.add_argument("per_partition", type=int)
    p.add_argument("--no-readback", action="store_true")
    p = sub.add_parser("group")
    p.add_argument("bootstrap")
    p.add_argument("topic")
    p.add_argument("group")
    p.add_argument("count", type=int)
    p.add_argument("--partitions", type=int, default=4)
    p.add_argument("--protocol", choices=["classic", "consumer"], default="classic")
    p.add_argument("--extra-wait", type=float, default=0.0)
    p.add_argument("--settle", action="store_true", help="wait for a balanced assignment before consuming")
    p.add_argument("--timeout", type=float, default=30.0)
    args = parser.parse_args()
    {"admin": cmd_admin, "produce": cmd_produce, "group": cmd_group}[args.cmd](args)


if __name__ == "__main__":
    sys.exit(main())
