// Identifiers a broker makes up: topic ids, member ids, the cluster id, producer ids, fetch session
// ids, and members' epochs. A captured session names Apache Kafka's values of the day it was captured;
// replaying it against another broker means rewriting them, in every later request, to that broker's
// own value for the same thing. For the comparison, each broker's identifiers are then replaced by a
// symbol both brokers share (`topicId(name)`, `member#1`, ...), so that "which id" is compared and
// "what id" is not (epochs are normalized in compare.ts instead).
import { ApiKey, ZERO_UUID, iterateBatches, writeBatchCrc, BatchOffsets } from "@tskafka/protocol";

type Plain = Record<string, unknown>;

/** Calls `visit` on every object (struct) inside `value`, parents before children. */
export function eachStruct(value: unknown, visit: (struct: Plain) => void): void {
  if (Array.isArray(value)) {
    for (const item of value) eachStruct(item, visit);
  } else if (isStruct(value)) {
    visit(value);
    for (const [key, child] of Object.entries(value)) if (key !== "_unknownTaggedFields") eachStruct(child, visit);
  }
}

export function isStruct(value: unknown): value is Plain {
  return typeof value === "object" && value !== null && !Array.isArray(value) && !Buffer.isBuffer(value);
}

/** The topic name a struct with a topicId gives beside it, if any. */
function topicNameOf(struct: Plain): string | undefined {
  for (const key of ["name", "topic", "topicName"]) {
    const v = struct[key];
    if (typeof v === "string" && v !== "") return v;
  }
  return undefined;
}

/** Kinds of made-up values other than topic ids, learned from the responses that hand them out. */
type Kind = "member" | "cluster" | "producer" | "session";

/** Kinds whose values are strings, rewritten in any request field that holds one of them. */
const STRING_KINDS: readonly Kind[] = ["member", "cluster"];

/** Where a response gives a member its epoch: the epoch field and the member id field beside it. */
const EPOCHS: readonly { apiKey: number; epoch: string; member: string }[] = [
  { apiKey: ApiKey.JoinGroup, epoch: "generationId", member: "memberId" },
  { apiKey: ApiKey.ConsumerGroupHeartbeat, epoch: "memberEpoch", member: "memberId" },
];

/** Request fields that carry a member's epoch back, beside its memberId. */
const EPOCH_FIELDS = new Set(["generationId", "memberEpoch", "generationIdOrMemberEpoch"]);

/** Where a response hands out a new value: its top-level field, per API. */
const ISSUERS: readonly { apiKey: number; field: string; kind: Kind }[] = [
  // Classic groups: the coordinator names the member (KIP-394: after MEMBER_ID_REQUIRED too).
  { apiKey: ApiKey.JoinGroup, field: "memberId", kind: "member" },
  // KIP-848: v0 lets the broker name the member; from v1 the client does, and this maps it to itself.
  { apiKey: ApiKey.ConsumerGroupHeartbeat, field: "memberId", kind: "member" },
  { apiKey: ApiKey.InitProducerId, field: "producerId", kind: "producer" },
  // A client may send the cluster id back (ApiVersions v5, KIP-1242).
  { apiKey: ApiKey.Metadata, field: "clusterId", kind: "cluster" },
  { apiKey: ApiKey.DescribeCluster, field: "clusterId", kind: "cluster" },
  // KIP-227 incremental fetch sessions.
  { apiKey: ApiKey.Fetch, field: "sessionId", kind: "session" },
];

function isIssued(kind: Kind, value: unknown): boolean {
  if (STRING_KINDS.includes(kind)) return typeof value === "string" && value !== "";
  if (kind === "producer") return typeof value === "bigint" && value >= 0n;
  return typeof value === "number" && value !== 0;
}

/** What one broker (or the captured session) said its made-up values are. */
export class Identities {
  /** Topic name by topic id and the reverse (the latest id a name had). */
  readonly topicName = new Map<string, string>();
  readonly topicId = new Map<string, string>();
  /** Per kind, this broker's value by the captured session's value. */
  private readonly fromCaptured = new Map<Kind, Map<unknown, unknown>>();
  /** Per kind, the shared symbol of each of this broker's values. */
  private readonly symbols = new Map<Kind, Map<unknown, string>>();
  /** Per captured member id, this broker's epoch (classic generation or KIP-848 member epoch) by the captured one. */
  private readonly epochs = new Map<string, Map<number, number>>();

  learnEpoch(capturedMember: string, captured: number, mine: number): void {
    let m = this.epochs.get(capturedMember);
    if (m === undefined) this.epochs.set(capturedMember, (m = new Map()));
    m.set(captured, mine);
  }

  rewriteEpoch(capturedMember: string, captured: number): number | undefined {
    return this.epochs.get(capturedMember)?.get(captured);
  }

  /** Learns topic ids from any struct of a response (or request) that pairs one with a name. */
  learnTopics(body: unknown): void {
    eachStruct(body, (struct) => {
      const id = struct["topicId"];
      const name = topicNameOf(struct);
      if (typeof id === "string" && id !== ZERO_UUID && name !== undefined) {
        this.topicName.set(id, name);
        this.topicId.set(name, id);
      }
    });
  }

  issued(kind: Kind, value: unknown, captured: unknown, symbol: string): void {
    if (!isIssued(kind, value)) return;
    if (isIssued(kind, captured)) mapOf(this.fromCaptured, kind).set(captured, value);
    const symbols = mapOf(this.symbols, kind);
    if (!symbols.has(value)) symbols.set(value, symbol);
  }

  rewrite(kind: Kind, captured: unknown): unknown {
    return this.fromCaptured.get(kind)?.get(captured);
  }

  symbol(kind: Kind, value: unknown): string | undefined {
    return this.symbols.get(kind)?.get(value);
  }

  capturedValues(kind: Kind): ReadonlySet<unknown> {
    return new Set(this.fromCaptured.get(kind)?.keys() ?? []);
  }
}

function mapOf<K, V>(maps: Map<Kind, Map<K, V>>, kind: Kind): Map<K, V> {
  let m = maps.get(kind);
  if (m === undefined) {
    m = new Map();
    maps.set(kind, m);
  }
  return m;
}

/**
 * The identities of both brokers under test and of the captured session, learned exchange by
 * exchange in replay order.
 */
export class IdentityBook {
  readonly captured = new Identities();
  readonly targets: readonly [Identities, Identities] = [new Identities(), new Identities()];
  private readonly counters = new Map<Kind, number>();

  /**
   * Learns from one exchange: the captured response (if any) and each broker's (undefined when it
   * gave none). A value both brokers handed out at the same place gets one symbol.
   */
  learn(apiKey: number, captured: Plain | undefined, responses: readonly [Plain | undefined, Plain | undefined]): void {
    if (captured !== undefined) this.captured.learnTopics(captured);
    responses.forEach((r, i) => {
      if (r !== undefined) this.targets[i]!.learnTopics(r);
    });
    for (const issuer of ISSUERS) {
      if (issuer.apiKey !== apiKey) continue;
      const capturedValue = captured?.[issuer.field];
      const values = responses.map((r) => r?.[issuer.field]);
      const existing = values.map((v, i) => this.targets[i]!.symbol(issuer.kind, v)).find((s) => s !== undefined);
      if (existing === undefined && !values.some((v) => isIssued(issuer.kind, v))) continue;
      const symbol = existing ?? this.nextSymbol(issuer.kind);
      values.forEach((v, i) => this.targets[i]!.issued(issuer.kind, v, capturedValue, symbol));
    }
    for (const e of EPOCHS) {
      if (e.apiKey !== apiKey || captured === undefined) continue;
      const member = captured[e.member];
      const epoch = captured[e.epoch];
      if (typeof member !== "string" || member === "" || typeof epoch !== "number" || epoch <= 0) continue;
      responses.forEach((r, i) => {
        const mine = r?.[e.epoch];
        if (typeof mine === "number" && mine > 0) this.targets[i]!.learnEpoch(member, epoch, mine);
      });
    }
  }

  private nextSymbol(kind: Kind): string {
    const n = (this.counters.get(kind) ?? 0) + 1;
    this.counters.set(kind, n);
    return `${kind}#${n}`;
  }

  /**
   * Rewrites a decoded captured request for broker `target` in place: topic ids, member ids,
   * producer ids (also inside Produce record batches) and fetch session ids become that broker's.
   * Returns whether anything changed.
   */
  rewriteRequest(apiKey: number, body: Plain, target: 0 | 1): boolean {
    const mine = this.targets[target];
    const strings = STRING_KINDS.map((kind) => ({ kind, captured: mine.capturedValues(kind) }));
    let changed = false;
    const visit = (struct: Plain): void => {
      const member = struct["memberId"];
      for (const [key, value] of Object.entries(struct)) {
        if (EPOCH_FIELDS.has(key) && typeof member === "string" && typeof value === "number" && value > 0) {
          const epoch = mine.rewriteEpoch(member, value);
          if (epoch !== undefined && epoch !== value) {
            struct[key] = epoch;
            changed = true;
          }
        } else if (key === "topicId" && typeof value === "string" && value !== ZERO_UUID) {
          const name = this.captured.topicName.get(value);
          const id = name === undefined ? undefined : mine.topicId.get(name);
          if (id !== undefined && id !== value) {
            struct[key] = id;
            changed = true;
          }
        } else if (typeof value === "string" && strings.some((k) => k.captured.has(value))) {
          const id = mine.rewrite(strings.find((k) => k.captured.has(value))!.kind, value);
          if (typeof id === "string" && id !== value) {
            struct[key] = id;
            changed = true;
          }
        } else if (key === "producerId" && typeof value === "bigint") {
          const id = mine.rewrite("producer", value);
          if (typeof id === "bigint" && id !== value) {
            struct[key] = id;
            changed = true;
          }
        } else if (key === "sessionId" && apiKey === ApiKey.Fetch && typeof value === "number" && value !== 0) {
          const id = mine.rewrite("session", value);
          if (typeof id === "number" && id !== value) {
            struct[key] = id;
            changed = true;
          }
        } else if (key === "records" && apiKey === ApiKey.Produce && Buffer.isBuffer(value)) {
          const patched = this.rewriteBatches(value, mine);
          if (patched !== value) {
            struct[key] = patched;
            changed = true;
          }
        }
      }
    };
    eachStruct(body, visit);
    return changed;
  }

  /** A copy of `records` with each batch's producer id rewritten and its CRC redone, or `records` itself. */
  private rewriteBatches(records: Buffer, mine: Identities): Buffer {
    let copy: Buffer | undefined;
    try {
      for (const span of iterateBatches(records)) {
        const id = mine.rewrite("producer", span.header.producerId);
        if (typeof id !== "bigint" || id === span.header.producerId) continue;
        copy ??= Buffer.from(records);
        const batch = copy.subarray(span.offset, span.offset + span.length);
        batch.writeBigInt64BE(id, BatchOffsets.producerId);
        writeBatchCrc(batch);
      }
    } catch {
      return records; // Not v2 batches (a legacy message set): nothing to rewrite.
    }
    return copy ?? records;
  }

  /** The symbol of a value broker `target` made up, if it is one. */
  symbolOf(target: 0 | 1, key: string, value: unknown, apiKey: number): string | undefined {
    const mine = this.targets[target];
    if (key === "topicId" && typeof value === "string" && value !== ZERO_UUID) {
      const name = mine.topicName.get(value);
      return name === undefined ? undefined : `topicId(${name})`;
    }
    if (typeof value === "string") return mine.symbol("member", value) ?? mine.symbol("cluster", value);
    if (key === "producerId" && typeof value === "bigint") return mine.symbol("producer", value);
    if (key === "sessionId" && apiKey === ApiKey.Fetch && typeof value === "number")
      return mine.symbol("session", value);
    return undefined;
  }
}
