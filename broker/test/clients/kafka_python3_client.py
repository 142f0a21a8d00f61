"""kafka-python 3.x (from PyPI, in the project's venv) against the broker, for
broker/test/clients-kafka-python3.test.ts.

    kafka_python3_client.py codecs
    kafka_python3_client.py admin   BOOTSTRAP PREFIX
    kafka_python3_client.py produce BOOTSTRAP TOPIC CODEC PARTITIONS PER_PARTITION [--no-readback]
    kafka_python3_client.py group   BOOTSTRAP TOPIC GROUP COUNT [--partitions N] [--extra-wait SECONDS]
                                    [--timeout SECONDS]

`group` runs two members, one thread each, that wait for a balanced assignment, then process COUNT records
between them, committing on revocation and at the end.

Each prints one JSON document on stdout; the test decides what is right. Broker errors are reported by
kafka-python's error class names (e.g. TopicAlreadyExistsError).
"""
import argparse
import json
import sys
import threading
import time

import kafka
import kafka.codec
from kafka import AsyncConsumerRebalanceListener, KafkaAdminClient, KafkaConsumer, KafkaProducer, TopicPartition
from kafka.admin import AlterConfigOp, ConfigResource, ConfigResourceType
from kafka.structs import OffsetAndMetadata

TIMEOUT_MS = 10000


def error_name(exc):
    return type(exc).__name__


def settle(get, ready, seconds=5.0):
    """`get()` again until `ready` holds of it or `seconds` pass (Apache Kafka's brokers apply admin
    changes a moment after answering); the last value either way."""
    deadline = time.time() + seconds
    value = get()
    while not ready(value) and time.time() < deadline:
        time.sleep(0.1)
        value = get()
    return value


def cmd_codecs(args):
    print(json.dumps({"version": kafka.__version__, "gzip": kafka.codec.has_gzip(), "snappy": kafka.codec.has_snappy(),
                      "lz4": kafka.codec.has_lz4(), "zstd": kafka.codec.has_zstd()}))


# --- admin -------------------------------------------------------------------------------------------

def topic_configs(admin, topic, keys):
    res = admin.describe_configs([ConfigResource(ConfigResourceType.TOPIC, topic, configs=None)], config_filter="all")
    entries = res["topic"][topic]
    return {k: {"value": entries[k]["value"], "source": entries[k]["config_source"], "readOnly": entries[k]["read_only"]}
            for k in keys if k in entries}


def group_summary(admin, group):
    d = admin.describe_groups([group])[group]
    members = []
    for m in d["members"]:
        assigned = (m.get("member_assignment") or {}).get("assigned_partitions") or []
        members.append({"clientId": m["client_id"], "host": m["client_host"], "memberIdNonEmpty": bool(m["member_id"]),
                        "topics": (m.get("member_metadata") or {}).get("topics"),
                        "assignment": sorted([a["topic"], p] for a in assigned for p in a["partitions"])})
    return {"state": d["group_state"], "protocolType": d["protocol_type"], "protocol": d["protocol_data"],
            "error": None if d.get("error") is None else str(d["error"]),
            "members": sorted(members, key=lambda m: m["clientId"])}


def listed_groups(admin):
    return sorted([g["group_id"], g["protocol_type"], g["group_state"], g["group_type"]] for g in admin.list_groups())


def cmd_admin(args):
    admin = KafkaAdminClient(bootstrap_servers=args.bootstrap, client_id="tskafka-admin", request_timeout_ms=TIMEOUT_MS)
    out = {}
    a, b = args.prefix + "-a", args.prefix + "-b"
    cluster = admin.describe_cluster()
    out["cluster"] = {"controller": cluster["controller_id"], "clusterIdNonEmpty": bool(cluster["cluster_id"]),
                      "brokers": [[x["broker_id"], x["host"], x["port"]] for x in cluster["brokers"]]}
    out["topicsBefore"] = sorted(t for t in admin.list_topics() if not t.startswith("__"))

    res = admin.create_topics({
        a: {"num_partitions": 3, "replication_factor": 1,
            "configs": {"retention.ms": "3600000", "cleanup.policy": "compact"}},
        b: {"num_partitions": 2},
    }, timeout_ms=TIMEOUT_MS)
    created = {t["name"]: t for t in res["topics"]}
    out["create"] = {n: {"error": t["error_code"], "partitions": t["num_partitions"], "replicationFactor": t["replication_factor"],
                         "topicIdNonZero": t["topic_id"] not in (None, "00000000-0000-0000-0000-000000000000"),
                         "configs": {k: [t["configs"][k]["value"], t["configs"][k]["config_source"]]
                                     for k in ("retention.ms", "cleanup.policy", "segment.bytes") if k in t["configs"]}}
                     for n, t in sorted(created.items())}
    try:
        admin.create_topics({a: {"num_partitions": 1}})
        out["createAgain"] = None
    except Exception as e:  # noqa: BLE001 - reported to the test
        out["createAgain"] = error_name(e)
    res = admin.create_topics({args.prefix + "-validate": {"num_partitions": 5}}, validate_only=True)
    out["createValidateOnly"] = [[t["name"], t["error_code"], t["num_partitions"]] for t in res["topics"]]
    admin.create_partitions({b: 4})
    out["listed"] = settle(lambda: sorted(t for t in admin.list_topics() if not t.startswith("__")),
                           lambda ts: a in ts and b in ts)

    def described():
        return {t["name"]: {"error": t["error_code"], "internal": t["is_internal"],
                            "partitions": [[p["partition_index"], p["leader_id"], p["replica_nodes"], p["isr_nodes"]]
                                           for p in sorted(t["partitions"], key=lambda p: p["partition_index"])]}
                for t in admin.describe_topics([a, b])}
    out["describeTopics"] = settle(described, lambda d: len(d.get(b, {}).get("partitions", [])) == 4)

    keys = ["retention.ms", "cleanup.policy", "segment.bytes"]
    out["configsBefore"] = topic_configs(admin, a, keys)
    res = admin.alter_configs([ConfigResource(ConfigResourceType.TOPIC, a, configs={
        "retention.ms": (AlterConfigOp.SET, "7200000"),
        "cleanup.policy": (AlterConfigOp.DELETE, None),
        "segment.bytes": (AlterConfigOp.SET, "1048576"),
    })])
    out["alter"] = {str(k): v for k, v in res["topic"].items()}
    out["configsAfter"] = settle(lambda: topic_configs(admin, a, keys), lambda c: c["retention.ms"]["value"] == "7200000")
    try:
        res = admin.alter_configs([ConfigResource(ConfigResourceType.TOPIC, a, configs={"retention.ms": (AlterConfigOp.SET, "soon")})])
        out["alterBad"] = {str(k): str(v) for k, v in res["topic"].items()}
    except Exception as e:  # noqa: BLE001
        out["alterBad"] = error_name(e)
    out["configsAfterBad"] = topic_configs(admin, a, ["retention.ms"])

    # A live group: one member reads what was produced to b (2 records per partition) and commits.
    group = args.prefix + "-group"
    producer = KafkaProducer(bootstrap_servers=args.bootstrap, acks="all", linger_ms=5, request_timeout_ms=TIMEOUT_MS)
    acked = [producer.send(b, value=b"g%d" % i, partition=i % 4) for i in range(8)]
    out["groupAcked"] = sorted([f.get(timeout=10).partition, f.get(timeout=10).offset] for f in acked)
    producer.close(timeout=10)
    consumer = KafkaConsumer(b, bootstrap_servers=args.bootstrap, group_id=group, client_id="tskafka-member",
                             auto_offset_reset="earliest", enable_auto_commit=False, fetch_max_wait_ms=50,
                             heartbeat_interval_ms=500, session_timeout_ms=10000, request_timeout_ms=11000)
    seen = []
    deadline = time.time() + 20
    while len(seen) < 8 and time.time() < deadline:
        for recs in consumer.poll(timeout_ms=200).values():
            seen.extend(r.value.decode() for r in recs)
    out["groupSeen"] = sorted(seen)
    consumer.commit()
    out["groupsWhileActive"] = listed_groups(admin)
    out["describeWhileActive"] = group_summary(admin, group)
    offsets = admin.list_group_offsets({group: None})[group]
    out["groupOffsets"] = sorted([tp.topic, tp.partition, om.offset] for tp, om in offsets.items())
    out["deleteActiveGroup"] = {g: str(err) for g, err in admin.delete_groups([group]).items()}
    consumer.close()
    out["describeAfterClose"] = group_summary(admin, group)
    out["deleteGroup"] = {g: str(err) for g, err in admin.delete_groups([group]).items()}
    out["deleteUnknownGroup"] = {g: str(err) for g, err in admin.delete_groups([args.prefix + "-nogroup"]).items()}
    out["groupsAfterDelete"] = listed_groups(admin)

    res = admin.delete_topics([a, b], timeout_ms=TIMEOUT_MS)
    out["delete"] = sorted([t["name"], t["error_code"]] for t in res["topics"])
    try:
        admin.delete_topics([args.prefix + "-missing"])
        out["deleteUnknown"] = None
    except Exception as e:  # noqa: BLE001
        out["deleteUnknown"] = error_name(e)
    out["topicsAfterDelete"] = settle(lambda: sorted(t for t in admin.list_topics() if not t.startswith("__")),
                                      lambda ts: a not in ts and b not in ts)
    admin.close()
    print(json.dumps(out))


# --- produce -----------------------------------------------------------------------------------------

def record_value(codec, p, i):
    return "%s value %d/%d %s" % (codec, p, i, "xyz" * (i * 5))


def cmd_produce(args):
    producer = KafkaProducer(bootstrap_servers=args.bootstrap, client_id="tskafka-producer", acks="all",
                             enable_idempotence=True, compression_type=None if args.codec == "none" else args.codec,
                             linger_ms=5, batch_size=1024, request_timeout_ms=TIMEOUT_MS, max_block_ms=TIMEOUT_MS)
    futures = []
    for i in range(args.per_partition):
        for p in range(args.partitions):
            futures.append(producer.send(args.topic, partition=p, key=b"k%d-%d" % (p, i),
                                         value=record_value(args.codec, p, i).encode(),
                                         headers=[("codec", args.codec.encode()), ("seq", b"%d" % i)]))
    acked = []
    for f in futures:
        try:
            md = f.get(timeout=TIMEOUT_MS / 1000)
            acked.append({"partition": md.partition, "offset": md.offset, "error": None})
        except Exception as e:  # noqa: BLE001
            acked.append({"partition": None, "offset": None, "error": error_name(e)})
    producer.close(timeout=10)
    out = {"acked": acked}
    if not args.no_readback:
        consumer = KafkaConsumer(bootstrap_servers=args.bootstrap, client_id="tskafka-reader", group_id=None,
                                 enable_auto_commit=False, fetch_max_wait_ms=50, max_partition_fetch_bytes=2048,
                                 request_timeout_ms=11000)
        tps = [TopicPartition(args.topic, p) for p in range(args.partitions)]
        consumer.assign(tps)
        consumer.seek_to_beginning(*tps)
        records = []
        want = args.partitions * args.per_partition
        deadline = time.time() + 20
        while len(records) < want and time.time() < deadline:
            for recs in consumer.poll(timeout_ms=200).values():
                records.extend({"partition": r.partition, "offset": r.offset, "key": r.key.decode(), "value": r.value.decode(),
                                "headers": [[k, v.decode()] for k, v in r.headers]} for r in recs)
        consumer.close()
        out["records"] = sorted(records, key=lambda r: (r["partition"], r["offset"]))
    print(json.dumps(out))


# --- group -------------------------------------------------------------------------------------------

class Member(AsyncConsumerRebalanceListener):
    """A group member that commits what it has processed whenever partitions are taken from it. kafka-python
    3 runs rebalance listeners on its IO thread, where a blocking commit() is refused, so the listener is
    the async kind and awaits commit_async()."""

    def __init__(self, index, args):
        self.name = "member-%d" % index
        self.topic = args.topic
        self.consumer = KafkaConsumer(bootstrap_servers=args.bootstrap, group_id=args.group, client_id=self.name,
                                      auto_offset_reset="earliest", enable_auto_commit=False, fetch_max_wait_ms=50,
                                      max_partition_fetch_bytes=2048, heartbeat_interval_ms=300,
                                      session_timeout_ms=10000, request_timeout_ms=11000)
        self.consumer.subscribe([args.topic], listener=self)
        self.events = []
        self.records = []
        self.commit_errors = []
        self.next_offset = {}
        self.held = 0

    async def on_partitions_revoked(self, revoked):
        parts = sorted(tp.partition for tp in revoked)
        self.events.append(["revoke", parts])
        offsets = self.offsets([p for p in parts if p in self.next_offset])
        if offsets:
            try:
                await self.consumer.commit_async(offsets)
            except Exception as e:  # noqa: BLE001
                self.commit_errors.append("%s: %s" % (error_name(e), e))
        for p in parts:
            self.next_offset.pop(p, None)

    async def on_partitions_assigned(self, assigned):
        self.events.append(["assign", sorted(tp.partition for tp in assigned)])

    def offsets(self, partitions):
        return {TopicPartition(self.topic, p): OffsetAndMetadata(self.next_offset[p], "", -1) for p in partitions}

    def commit(self, partitions):
        if not partitions:
            return
        try:
            self.consumer.commit(self.offsets(partitions))
        except Exception as e:  # noqa: BLE001
            self.commit_errors.append("%s: %s" % (error_name(e), e))

    def assignment(self):
        return sorted(tp.partition for tp in self.consumer.assignment())

    def hold(self):
        """Drives the group protocol without processing: assigned partitions stay paused, and a record
        fetched before its partition was paused is put back for whoever owns it later."""
        got = self.consumer.poll(timeout_ms=100, max_records=1)
        assigned = self.consumer.assignment()
        if assigned:
            self.consumer.pause(*assigned)
        for tp, recs in got.items():
            if tp in assigned:
                self.consumer.seek(tp, recs[0].offset)
            self.held += len(recs)

    def take(self, budget):
        """Polls and processes records while `budget.take()` allows; a record it refuses is put back."""
        got = self.consumer.poll(timeout_ms=100, max_records=1)
        for tp, recs in got.items():
            for r in recs:
                if not budget.take():
                    self.consumer.seek(tp, r.offset)  # not processed: whoever reads next reads it
                    break
                self.records.append([r.partition, r.offset, r.value.decode()])
                self.next_offset[r.partition] = r.offset + 1


class Shared:
    """What the member threads share: the count of records left to process and the phase they are in."""

    def __init__(self, count, partitions, timeout):
        self.lock = threading.Lock()
        self.left = count
        self.partitions = partitions
        self.deadline = time.time() + timeout
        self.shares = {}
        self.settled = None
        self.balanced = threading.Event()
        self.committed = threading.Barrier(2)

    def take(self):
        with self.lock:
            if self.left == 0:
                return False
            self.left -= 1
            return True

    def publish(self, name, share):
        """Records a member's partitions; the group is balanced once both own all of them, evenly."""
        with self.lock:
            self.shares[name] = share
            if len(self.shares) == 2 and self.settled is None:
                shares = [self.shares[n] for n in sorted(self.shares)]
                owned = sorted(p for sh in shares for p in sh)
                if owned == list(range(self.partitions)) and max(map(len, shares)) - min(map(len, shares)) <= 1:
                    self.settled = shares
                    self.balanced.set()

    def expired(self):
        return time.time() > self.deadline


def run_member(m, shared, args, out):
    # Each member polls in its own thread. Driving both from one thread with short polls makes kafka-python
    # 3.0 drop a JoinGroup/SyncGroup that completed between two polls and send JoinGroup again (against
    # Apache Kafka too), which a leader's JoinGroup turns into another rebalance.
    while not shared.balanced.is_set() and not shared.expired():
        m.hold()
        shared.publish(m.name, m.assignment())
    m.consumer.resume(*m.consumer.assignment())
    while shared.left > 0 and not shared.expired():
        m.take(shared)
    extra = []
    extra_deadline = time.time() + args.extra_wait
    while time.time() < extra_deadline:
        for recs in m.consumer.poll(timeout_ms=100).values():
            extra.extend([m.name, r.partition, r.offset] for r in recs)
    assignment = m.assignment()
    m.commit([p for p in assignment if p in m.next_offset])
    result = {"assignment": assignment, "events": list(m.events), "records": m.records, "extra": extra}
    shared.committed.wait(timeout=args.timeout)
    if m.name == "member-0":
        # Read back after both members committed: the group's offsets as the coordinator has them.
        committed = [m.consumer.committed(TopicPartition(args.topic, p)) for p in range(args.partitions)]
        out["committed"] = [[p, -1 if c is None else c] for p, c in enumerate(committed)]
    shared.committed.wait(timeout=args.timeout)
    m.consumer.close()
    result["eventsOnClose"] = m.events[len(result["events"]):]
    result["commitErrors"] = m.commit_errors
    out["members"][m.name] = result


def cmd_group(args):
    members = [Member(i, args) for i in range(2)]
    shared = Shared(args.count, args.partitions, args.timeout)
    out = {"members": {}}
    threads = [threading.Thread(target=run_member, args=(m, shared, args, out)) for m in members]
    for t in threads:
        t.start()
    for t in threads:
        t.join(args.timeout + args.extra_wait + 30)
    out["settled"] = shared.settled
    out["timedOut"] = shared.left > 0
    out["extra"] = [e for m in sorted(out["members"]) for e in out["members"][m].pop("extra")]
    out["held"] = sum(m.held for m in members)
    print(json.dumps(out))


def main():
    parser = argparse.ArgumentParser()
    sub = parser.add_subparsers(dest="cmd", required=True)
    sub.add_parser("codecs")
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
    p.add_argument("--extra-wait", type=float, default=0.0)
    p.add_argument("--timeout", type=float, default=30.0)
    args = parser.parse_args()
    {"codecs": cmd_codecs, "admin": cmd_admin, "produce": cmd_produce, "group": cmd_group}[args.cmd](args)


if __name__ == "__main__":
    sys.exit(main())
