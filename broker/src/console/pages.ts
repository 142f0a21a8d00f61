import { compressionNames, type CompressionType } from "@tskafka/protocol";
import { EARLIEST, KafkaError, LATEST, ResourceType, type FetchedRecord, type KafkaAdmin } from "../cli/kafka-admin.js";
import { showBytes, RECORD_FORMATS, type RecordFormat } from "../cli/record-format.js";
import { formatBytes } from "../cli/table.js";
import { messageCount, PARTITION_HEADER, topicDetails, topicSummaries } from "../cli/topic-rows.js";
import type { ThroughputHistory } from "../metrics/throughput.js";
import { sparkline } from "./sparkline.js";
import { html, seg, tableOf, type Html } from "./html.js";

/** The console's pages: each reads through the Kafka client and answers its title and body. */
export interface Rendered {
  title: string;
  nav: string;
  body: Html;
  refreshSeconds?: number;
}

const CONFIG_SOURCES: Record<number, string> = {
  1: "topic",
  2: "dynamic broker",
  3: "dynamic default",
  4: "static broker",
  5: "default",
  6: "dynamic logger",
  7: "client metrics",
  8: "group",
};

export async function brokersPage(admin: KafkaAdmin): Promise<Rendered> {
  const c = await admin.cluster();
  const topics = c.topics.filter((t) => !t.internal);
  const groups = await admin.groups();
  const body = html`<p>
      Cluster <code>${c.clusterId ?? "-"}</code> · controller ${c.controllerId} ·
      <a href="/topics">${topics.length} topics</a> · <a href="/groups">${groups.length} groups</a>
    </p>
    <h2>Brokers</h2>
    ${tableOf(
      ["Node", "Host", "Port", "Rack", ""],
      c.brokers.map((b) => [b.nodeId, b.host, b.port, b.rack ?? "-", html`<a href="/brokers/${b.nodeId}">config</a>`]),
    )}`;
  return { title: "Brokers", nav: "/", body };
}

export async function brokerPage(admin: KafkaAdmin, id: number): Promise<Rendered> {
  const configs = await admin.configs(ResourceType.broker, String(id));
  const body = html`<p><a href="/">Brokers</a> / node ${id}</p>
    ${tableOf(
      ["Key", "Value", "Source", "Read-only"],
      configs.map((c) => [
        c.name,
        c.sensitive ? "(sensitive)" : (c.value ?? "null"),
        CONFIG_SOURCES[c.source] ?? c.source,
        c.readOnly ? "yes" : "",
      ]),
    )}`;
  return { title: `Broker ${id} configuration`, nav: "/", body };
}

export async function topicsPage(
  admin: KafkaAdmin,
  writable: boolean,
  throughput?: ThroughputHistory,
): Promise<Rendered> {
  const shown = await topicSummaries(admin, false);
  const rows = await Promise.all(
    shown.map(async (t) => [
      html`<a href="/topics/${seg(t.name)}">${t.name}</a>`,
      t.partitionIds.length,
      t.replicas,
      await messageCount(admin, t),
      formatBytes(t.size),
      sparkline(throughput?.of(t.name), { width: 120, height: 24 }),
    ]),
  );
  const create = writable
    ? html`<form class="box" method="post" action="/topics" id="create-topic">
        <label>Name<input name="name" required pattern="[A-Za-z0-9._\\-]+" maxlength="249" /></label>
        <label>Partitions<input name="partitions" type="number" min="1" value="1" /></label>
        <label>Replication factor<input name="replicationFactor" type="number" value="-1" /></label>
        <button type="submit">Create topic</button>
      </form>`
    : "";
  const legend = throughput !== undefined ? SPARK_LEGEND : "";
  return {
    title: "Topics",
    nav: "/topics",
    body: html`${create}${tableOf(
      ["Topic", "Partitions", "Replicas", "Messages", "Size", "Throughput"],
      rows,
      "no topics yet",
    )}${rows.length > 0 ? legend : ""}`,
  };
}

/** What the sparklines' two lines are. */
const SPARK_LEGEND = html`<p class="muted spark-legend">
  Throughput: <span class="key-in">bytes in</span> and <span class="key-out">bytes out</span> per second over the last
  minutes, sampled by the broker; hover a line for its numbers.
</p>`;

export async function topicPage(
  admin: KafkaAdmin,
  name: string,
  writable: boolean,
  throughput?: ThroughputHistory,
): Promise<Rendered> {
  const { topic: t, partitions, configs } = await topicDetails(admin, name);
  const remove = writable
    ? html`<form class="inline" method="post" action="/topics/${seg(name)}/delete" data-confirm="Delete topic ${name}?">
        <button class="danger" type="submit">Delete topic</button>
      </form>`
    : "";
  const traffic =
    throughput !== undefined
      ? html`<h2>Throughput</h2>
          ${sparkline(throughput.of(name), { width: 480, height: 64 })}${SPARK_LEGEND}`
      : "";
  const body = html`<p>
      <a href="/topics">Topics</a> / ${name} · id <code>${t.topicId}</code> ·
      <a href="/topics/${seg(name)}/messages">Browse messages</a> ${remove}
    </p>
    ${traffic}
    <h2>Partitions</h2>
    ${tableOf(
      PARTITION_HEADER,
      partitions.map((p) => [p.partition, p.leader, p.replicas, p.isr, p.earliest, p.latest, formatBytes(p.size)]),
    )}
    <h2>Configuration</h2>
    ${tableOf(
      ["Key", "Value", "Source"],
      configs.map((c) => [
        c.name,
        c.sensitive ? "(sensitive)" : (c.value ?? "null"),
        CONFIG_SOURCES[c.source] ?? c.source,
      ]),
    )}`;
  return { title: `Topic ${name}`, nav: "/topics", body };
}

export interface BrowseQuery {
  partition: string;
  offset: string;
  timestamp: string;
  format: string;
  limit: string;
}

/** The message browser: from an offset or a timestamp, one partition or all of them. */
export async function messagesPage(admin: KafkaAdmin, name: string, q: BrowseQuery): Promise<Rendered> {
  const t = await admin.topic(name);
  const format: RecordFormat = (RECORD_FORMATS as readonly string[]).includes(q.format)
    ? (q.format as RecordFormat)
    : "text";
  const limit = Math.min(Math.max(Number(q.limit) || 50, 1), 500);
  const all = q.partition === "" || q.partition === "all";
  if (!all && !t.partitions.some((p) => String(p.partition) === q.partition))
    throw new KafkaError(0, `${name} has no partition ${q.partition}`);
  if (q.offset.trim() !== "" && !/^\d+$/.test(q.offset.trim())) throw new KafkaError(0, `not an offset: ${q.offset}`);
  const parts = all ? t.partitions.map((p) => p.partition) : [Number(q.partition)];
  const records: FetchedRecord[] = [];
  for (const p of parts) {
    const start = await startOffset(admin, name, p, q);
    if (start < 0n) continue; // no record at or after the timestamp
    records.push(...(await readUpTo(admin, name, p, start, limit)));
  }
  records.sort((a, b) =>
    a.timestamp === b.timestamp ? Number(a.offset - b.offset) : a.timestamp < b.timestamp ? -1 : 1,
  );
  const shown = records.slice(0, limit);
  const opt = (v: string, label: string, current: string): Html =>
    html`<option value="${v}" ${current === v ? html` selected` : ""}>${label}</option>`;
  const form = html`<form class="box" method="get" id="browse">
    <label
      >Partition<select name="partition">
        ${opt("all", "all", q.partition === "" ? "all" : q.partition)}${t.partitions.map((p) => opt(String(p.partition), String(p.partition), q.partition))}
      </select></label
    >
    <label>From offset<input name="offset" value="${q.offset}" placeholder="earliest" /></label>
    <label
      >or from time (ms or ISO)<input name="timestamp" value="${q.timestamp}" placeholder="2026-01-01T00:00:00Z"
    /></label>
    <label
      >Show as<select name="format">
        ${RECORD_FORMATS.map((f) => opt(f, f, format))}
      </select></label
    >
    <label>Limit<input name="limit" type="number" min="1" max="500" value="${limit}" /></label>
    <button type="submit">Show</button>
  </form>`;
  const rows = shown.map((r) => [
    r.partition,
    r.offset,
    html`<span class="nowrap">${new Date(Number(r.timestamp)).toISOString()}</span>`,
    html`<pre>${showBytes(r.key, format)}</pre>`,
    html`<pre>${r.headers.map((h) => `${h.key}: ${showBytes(h.value, format)}`).join("\n")}</pre>`,
    html`<pre class="value">${showBytes(r.value, format)}</pre>`,
    compressionNames[r.compression as CompressionType] ?? r.compression,
  ]);
  const body = html`<p><a href="/topics">Topics</a> / <a href="/topics/${seg(name)}">${name}</a> / messages</p>
    ${form}${tableOf(["Partition", "Offset", "Timestamp", "Key", "Headers", "Value", "Batch compression"], rows, "no messages")}`;
  return { title: `Messages of ${name}`, nav: "/topics", body };
}

async function startOffset(admin: KafkaAdmin, topic: string, p: number, q: BrowseQuery): Promise<bigint> {
  if (q.offset.trim() !== "") return BigInt(q.offset.trim());
  if (q.timestamp.trim() !== "") {
    const s = q.timestamp.trim();
    const ms = /^\d+$/.test(s) ? BigInt(s) : BigInt(Date.parse(s));
    if (Number.isNaN(Date.parse(s)) && !/^\d+$/.test(s)) throw new KafkaError(0, `not a time: ${s}`);
    return (await admin.offsets(topic, [p], ms)).get(p) ?? -1n;
  }
  return (await admin.offsets(topic, [p], EARLIEST)).get(p) ?? 0n;
}

async function readUpTo(
  admin: KafkaAdmin,
  topic: string,
  p: number,
  from: bigint,
  limit: number,
): Promise<FetchedRecord[]> {
  const out: FetchedRecord[] = [];
  let offset = from;
  while (out.length < limit) {
    const { records, highWatermark } = await admin.fetch(topic, p, offset, 1 << 20);
    out.push(...records);
    if (records.length === 0 || offset >= highWatermark) break;
    offset = records[records.length - 1]!.offset + 1n;
    if (offset >= highWatermark) break;
  }
  return out.slice(0, limit);
}

export async function groupsPage(admin: KafkaAdmin): Promise<Rendered> {
  const groups = await admin.groups();
  const rows = await Promise.all(
    groups.map(async (g) => {
      const lag = await admin.lag(g.groupId).catch(() => []);
      const total = lag.reduce((s, l) => s + (l.lag ?? 0n), 0n);
      return [
        html`<a href="/groups/${seg(g.groupId)}">${g.groupId}</a>`,
        g.type,
        g.state,
        g.protocolType,
        lagCell(total),
      ];
    }),
  );
  return {
    title: "Consumer groups",
    nav: "/groups",
    body: tableOf(["Group", "Type", "State", "Protocol type", "Lag"], rows, "no groups yet"),
  };
}

function lagCell(lag: bigint | null): Html {
  if (lag === null) return html`<span class="muted">-</span>`;
  return html`<span class="${lag === 0n ? "lag-zero" : "lag-some"}" data-lag="${lag}">${lag}</span>`;
}

export async function groupPage(admin: KafkaAdmin, id: string, writable: boolean): Promise<Rendered> {
  const g = await admin.describeGroup(id);
  const lag = await admin.lag(
    id,
    g.members.flatMap((m) => m.assignment),
  );
  const total = lag.reduce((s, l) => s + (l.lag ?? 0n), 0n);
  const topics = [...new Set(lag.map((l) => l.topic))];
  const reset =
    writable && topics.length > 0
      ? html`<h2>Reset offsets</h2>
          <p class="muted">Only an empty group accepts it (as Kafka's tool).</p>
          <form class="box" method="post" action="/groups/${seg(id)}/reset" data-confirm="Reset the offsets of ${id}?">
            <label
              >Topic<select name="topic">
                ${topics.map((t) => html`<option>${t}</option>`)}
              </select></label
            >
            <label
              >To<select name="to">
                <option value="earliest">earliest</option>
                <option value="latest">latest</option>
                <option value="offset">offset</option>
              </select></label
            >
            <label>Offset<input name="offset" type="number" min="0" /></label><button type="submit">Reset</button>
          </form>`
      : "";
  const body = html`<p>
      <a href="/groups">Groups</a> / ${id} · type ${g.type} · state <b>${g.state}</b> · protocol ${g.protocol || "-"} ·
      total lag ${lagCell(total)}
    </p>
    <h2>Members</h2>
    ${tableOf(
      ["Member", "Client", "Host", "Assignment"],
      g.members.map((m) => [
        m.memberId,
        m.clientId,
        m.clientHost,
        m.assignment.map((a) => `${a.topic}: ${a.partitions.join(", ")}`).join("; "),
      ]),
      "no members",
    )}
    <h2>Lag per partition</h2>
    ${tableOf(
      ["Topic", "Partition", "Committed", "End", "Lag"],
      lag.map((l) => [l.topic, l.partition, l.committed ?? "-", l.end, lagCell(l.lag)]),
      "no committed offsets",
    )}${reset}`;
  return { title: `Group ${id}`, nav: "/groups", body, refreshSeconds: 5 };
}

export async function securityPage(admin: KafkaAdmin): Promise<Rendered> {
  const RESOURCE: Record<number, string> = {
    2: "TOPIC",
    3: "GROUP",
    4: "CLUSTER",
    5: "TRANSACTIONAL_ID",
    6: "DELEGATION_TOKEN",
    7: "USER",
  };
  const PATTERN: Record<number, string> = { 3: "LITERAL", 4: "PREFIXED" };
  const OP: Record<number, string> = {
    2: "ALL",
    3: "READ",
    4: "WRITE",
    5: "CREATE",
    6: "DELETE",
    7: "ALTER",
    8: "DESCRIBE",
    9: "CLUSTER_ACTION",
    10: "DESCRIBE_CONFIGS",
    11: "ALTER_CONFIGS",
    12: "IDEMPOTENT_WRITE",
    13: "CREATE_TOKENS",
    14: "DESCRIBE_TOKENS",
    15: "TWO_PHASE_COMMIT",
  };
  const PERM: Record<number, string> = { 2: "DENY", 3: "ALLOW" };
  let acls: Html;
  try {
    const list = await admin.acls();
    acls = tableOf(
      ["Resource", "Name", "Pattern", "Principal", "Host", "Operation", "Permission"],
      list.map((a) => [
        RESOURCE[a.resourceType] ?? a.resourceType,
        a.name,
        PATTERN[a.patternType] ?? a.patternType,
        a.principal,
        a.host,
        OP[a.operation] ?? a.operation,
        PERM[a.permission] ?? a.permission,
      ]),
      "no ACLs",
    );
  } catch (e) {
    acls = html`<p class="muted">
      ${(e as Error).message}${(e as KafkaError).code === 54 ? " (no authorizer configured)" : ""}
    </p>`;
  }
  let users: Html;
  try {
    const list = await admin.scramUsers();
    users = tableOf(
      ["User", "Mechanisms/iterations"],
      list.map((u) => [u.user, u.mechanisms.join(", ")]),
      "no SCRAM users",
    );
  } catch (e) {
    users = html`<p class="muted">${(e as Error).message}</p>`;
  }
  return {
    title: "Security",
    nav: "/security",
    body: html`<h2>ACLs</h2>
      ${acls}
      <h2>SCRAM users</h2>
      ${users}`,
  };
}
