import type { TopicInfo } from "../src/cluster/metadata.js";
import type { ClassicState } from "../src/group/classic-group.js";
import { ErrorCode } from "../src/errors.js";
import { decodeRecord, type CoordinatorRecord, type DecodedRecord } from "../src/group/records.js";

/** Fakes for the group coordinator's parts (unit tests without a broker or a log). */

/** Topics by name with their partition counts, as ClusterMetadata answers `topic`, `topicById` and `topics`. */
export function fakeMetadata(partitions: Record<string, number>) {
  const infos = Object.entries(partitions).map(([name, n], i): TopicInfo => ({
    name,
    id: Buffer.alloc(16, i + 1).toString("base64url"),
    partitions: n,
    configs: {},
    version: 1,
  }));
  return {
    topic: (name: string) => infos.find((t) => t.name === name),
    topicById: (id: string) => infos.find((t) => t.id === id),
    topics: () => infos,
  };
}

/** An ordered writer that keeps what it was given, decoded, and answers `errorCode`. */
export function fakeWriter() {
  const written: { groupId: string; records: DecodedRecord[] }[] = [];
  const w = {
    written,
    errorCode: ErrorCode.NONE as number,
    write: (groupId: string, records: CoordinatorRecord[]): Promise<number> => {
      if (records.length === 0) return Promise.resolve(ErrorCode.NONE);
      written.push({ groupId, records: records.map((r) => decodeRecord(r.key, r.value)!) });
      return Promise.resolve(w.errorCode);
    },
  };
  return w;
}

/** A classic group as the offset store and expiry see it, with members by id and a fixed subscription. */
export class FakeClassicGroup {
  readonly kind = "classic";
  state: ClassicState = "Empty";
  generationId = 0;
  protocolType: string | null = null;
  stateTimestamp = Date.now();
  readonly members = new Map<string, string | null>();
  readonly pendingMembers = new Set<string>();
  subscription: Set<string> | undefined = undefined;
  readonly touched: string[] = [];

  constructor(readonly groupId: string) {}

  validateMember(memberId: string, groupInstanceId: string | null): number {
    if (groupInstanceId !== null) {
      const owner = [...this.members].find(([, instance]) => instance === groupInstanceId)?.[0];
      if (owner !== undefined && owner !== memberId) return ErrorCode.FENCED_INSTANCE_ID;
    }
    return this.members.has(memberId) ? ErrorCode.NONE : ErrorCode.UNKNOWN_MEMBER_ID;
  }

  touch(memberId: string): void {
    this.touched.push(memberId);
  }

  subscribedTopics(): Set<string> | undefined {
    return this.subscription;
  }
}
