/**
 * Where the replicas of new partitions go, after Kafka's StripedReplicaPlacer: brokers are grouped by rack
 * (racks in name order, brokers of a rack in a shuffled order, both shuffled again after as many partitions
 * as brokers), and each partition takes its first replica
 * (its preferred leader) from the next rack in turn and the rest striped over the following racks, so that
 * a partition's replicas are on as many racks as it has replicas (or every rack), leaders are spread evenly
 * over brokers, and successive partitions start from different brokers. The replication factor is checked
 * against the live brokers with Kafka's messages (INVALID_REPLICATION_FACTOR).
 */

/** A broker replicas may go to. */
export interface PlacementBroker {
  readonly nodeId: number;
  readonly rack: string | null;
}

/** Why `replicationFactor` cannot be placed on `brokers` live brokers (Kafka's words), undefined if it can. */
export function invalidReplicationFactor(replicationFactor: number, brokers: number): string | undefined {
  if (replicationFactor <= 0)
    return `Invalid replication factor ${replicationFactor}: the replication factor must be positive.`;
  if (replicationFactor > brokers)
    return `The target replication factor of ${replicationFactor} cannot be reached because only ${brokers} broker(s) are registered or some brokers have all their log directories cordoned.`;
  return undefined;
}

function shuffle<T>(items: T[], random: () => number): T[] {
  for (let i = items.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [items[i], items[j]] = [items[j]!, items[i]!];
  }
  return items;
}

/** The brokers of one rack, handed out in turn from an offset that moves with every round. */
class RackBrokers {
  private round = -1;
  private index = 0;
  private offset: number;

  constructor(
    readonly brokers: number[],
    random: () => number,
  ) {
    shuffle(brokers, random);
    this.offset = Math.floor(random() * brokers.length);
  }

  /** The next broker of round `round`, -1 when the rack has given all of its brokers in this round. */
  next(round: number): number {
    if (this.round !== round) {
      this.round = round;
      this.index = 0;
      this.offset = (this.offset + 1) % this.brokers.length;
    }
    if (this.index >= this.brokers.length) return -1;
    return this.brokers[(this.index++ + this.offset) % this.brokers.length]!;
  }
}

/**
 * Places the replicas of `partitions` new partitions of `replicationFactor` replicas each; the caller checks
 * the factor first (`invalidReplicationFactor`), a factor that cannot be placed throws.
 */
export function placeReplicas(
  brokers: readonly PlacementBroker[],
  partitions: number,
  replicationFactor: number,
  random: () => number = Math.random,
): number[][] {
  const why = invalidReplicationFactor(replicationFactor, brokers.length);
  if (why !== undefined) throw new Error(why);
  const byRack = new Map<string, number[]>();
  for (const b of brokers) {
    const rack = b.rack ?? "";
    byRack.set(rack, [...(byRack.get(rack) ?? []), b.nodeId]);
  }
  const rackNames = [...byRack.keys()].sort();
  let racks = rackNames.map((r) => new RackBrokers(byRack.get(r)!, random));
  let offset = Math.floor(random() * racks.length);
  let round = 0;
  const placed: number[][] = [];
  for (let p = 0; p < partitions; p++) {
    // After as many partitions as brokers, the racks and their brokers in a new order: the same lists
    // do not repeat (with one broker per rack, the later replicas go round the racks the other way).
    if (round === brokers.length && brokers.length > 1) {
      racks = shuffle(
        rackNames.map((r) => new RackBrokers(byRack.get(r)!, random)),
        random,
      );
      round = 0;
    }
    if (offset >= racks.length) offset = 0;
    const replicas: number[] = [];
    // The first replica: from the first rack at or after the offset with a broker left in this round.
    for (let i = 0; replicas.length === 0; i++) {
      const b = racks[(offset + i) % racks.length]!.next(round);
      if (b >= 0) replicas.push(b);
    }
    // The others striped over the racks from the one after the offset (rf <= brokers: it ends).
    for (let i = 1; replicas.length < replicationFactor; i++) {
      const b = racks[(offset + i) % racks.length]!.next(round);
      if (b >= 0 && !replicas.includes(b)) replicas.push(b);
    }
    placed.push(replicas);
    round++;
    offset++;
  }
  return placed;
}
