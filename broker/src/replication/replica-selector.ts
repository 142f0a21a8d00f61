/**
 * Which replica a consumer should read from (KIP-392, Kafka's ReplicaSelector), asked by a partition's
 * leader for a consumer's Fetch v11+. `replica.selector.class` names the rule: unset, always the leader
 * (Kafka's default); Kafka's RackAwareReplicaSelector, a replica in the consumer's rack (Fetch's rack_id):
 * the leader when it is there, else the one of that rack with the most of the log, then the one caught up
 * most recently, then the highest id.
 */

export const RACK_AWARE_SELECTOR = "org.apache.kafka.common.replica.RackAwareReplicaSelector";

/** The config check: only the rack-aware rule is implemented; another class stops start-up, as Kafka's would. */
export function replicaSelectorProblem(value: string): string | undefined {
  if (value === "" || value === RACK_AWARE_SELECTOR) return undefined;
  return `Class ${value} cannot be found: the only replica selector served is ${RACK_AWARE_SELECTOR}`;
}

/** A replica that may serve the consumer, as the leader sees it (Kafka's ReplicaView). */
export interface ReplicaView {
  readonly nodeId: number;
  readonly rack: string | null;
  readonly logEndOffset: bigint;
  /** How long ago it last had everything the leader had (0 for the leader). */
  readonly sinceCaughtUpMs: number;
}

/**
 * The replica the rack-aware rule picks among `leader` and `followers` (in-sync followers that hold the
 * fetch offset), -1 when it is the leader.
 */
export function rackAwareReplica(
  clientRack: string | null,
  leader: ReplicaView,
  followers: readonly ReplicaView[],
): number {
  if (clientRack === null || clientRack === "" || leader.rack === clientRack) return -1;
  let best: ReplicaView | undefined;
  for (const r of followers) {
    if (r.rack !== clientRack) continue;
    if (best === undefined || better(r, best)) best = r;
  }
  return best?.nodeId ?? -1;
}

/** Kafka's ReplicaView comparator: more of the log, then caught up more recently, then the higher id. */
function better(a: ReplicaView, b: ReplicaView): boolean {
  if (a.logEndOffset !== b.logEndOffset) return a.logEndOffset > b.logEndOffset;
  if (a.sinceCaughtUpMs !== b.sinceCaughtUpMs) return a.sinceCaughtUpMs < b.sinceCaughtUpMs;
  return a.nodeId > b.nodeId;
}
