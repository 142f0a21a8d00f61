import { mkdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { writeFileAtomic } from "../atomic-file.js";
import type { FinalizedFeatures } from "./metadata.js";

/**
 * Feature levels (KIP-584) as this broker reports them in ApiVersions and accepts in UpdateFeatures.
 * Only what we really serve is listed: group.version 1 is the KIP-848 consumer protocol;
 * transaction.version 0-2 as Kafka 4.4 (1: flexible `__transaction_state` values, 2: transactions v2 of
 * KIP-890, where Produce v12 adds partitions to a transaction and EndTxn v5 bumps the epoch), finalized at
 * 2 as a new Kafka 4.x cluster is. Kafka 4.4 also reports metadata.version and kraft.version (KRaft,
 * which we do not run); a client that sees neither does not try what they enable. share.version 0-2 as
 * Kafka 4.4, finalized at 2 on a new cluster: 1 enables share groups (KIP-932), 2 the RENEW
 * acknowledgement (ShareFetch and ShareAcknowledge v2). streams.version 0-1 as Kafka 4.4, finalized at 1
 * on a new cluster: 1 enables streams groups (KIP-1071, StreamsGroupHeartbeat and StreamsGroupDescribe).
 */
export interface FeatureRange {
  readonly name: string;
  readonly minVersion: number;
  readonly maxVersion: number;
}

export const TRANSACTION_VERSION = "transaction.version";
export const SHARE_VERSION = "share.version";
export const STREAMS_VERSION = "streams.version";

export const SUPPORTED_FEATURES: readonly FeatureRange[] = [
  { name: "group.version", minVersion: 1, maxVersion: 1 },
  { name: TRANSACTION_VERSION, minVersion: 0, maxVersion: 2 },
  { name: SHARE_VERSION, minVersion: 0, maxVersion: 2 },
  { name: STREAMS_VERSION, minVersion: 0, maxVersion: 1 },
];

/** The finalized level of each feature in a new cluster, and the epoch of that set. */
export const FINALIZED_FEATURES: readonly { name: string; level: number }[] = SUPPORTED_FEATURES.map((f) => ({
  name: f.name,
  level: f.maxVersion,
}));
export const FINALIZED_FEATURES_EPOCH = 0n;

/** The finalized level of `name`, 0 when it is not finalized (Kafka's default for a missing feature). */
export function featureLevel(features: FinalizedFeatures, name: string): number {
  return features.levels.find((f) => f.name === name)?.level ?? 0;
}

/** UpgradeType of UpdateFeatures v1+ (v0's AllowDowngrade maps to SAFE_DOWNGRADE). */
export const UpgradeType = { UPGRADE: 1, SAFE_DOWNGRADE: 2, UNSAFE_DOWNGRADE: 3 } as const;

/** Why an update to `level` of `name` cannot be made, or undefined when it can. */
export function invalidFeatureUpdate(
  finalized: FinalizedFeatures,
  name: string,
  level: number,
  upgradeType: number,
): string | undefined {
  const supported = SUPPORTED_FEATURES.find((f) => f.name === name);
  if (supported === undefined) return `Feature ${name} is not supported by this broker.`;
  const current = featureLevel(finalized, name);
  if (level < current && upgradeType === UpgradeType.UPGRADE)
    return `Can't downgrade the version of feature ${name} from ${current} to ${level} without setting the upgrade type to safe or unsafe downgrade.`;
  if (level < supported.minVersion || level > supported.maxVersion)
    return `Feature ${name} can only be at level ${supported.minVersion}-${supported.maxVersion} on this broker, not ${level}.`;
  return undefined;
}

/** `features` with `updates` applied: a feature at level 0 is not finalized (Kafka lists it no more). */
export function withFeatureLevels(
  features: FinalizedFeatures,
  updates: readonly { name: string; level: number }[],
): FinalizedFeatures {
  const levels = new Map(features.levels.map((f) => [f.name, f.level]));
  for (const u of updates) {
    if (u.level === 0) levels.delete(u.name);
    else levels.set(u.name, u.level);
  }
  return {
    epoch: features.epoch + 1n,
    levels: SUPPORTED_FEATURES.filter((f) => levels.has(f.name)).map((f) => ({
      name: f.name,
      level: levels.get(f.name)!,
    })),
  };
}

const FILE = "__tskafka_features.json";

/**
 * The finalized features of this node's cluster, in one JSON file of the data directory
 * (`{"epoch": "<decimal>", "levels": {"<name>": <level>}}`), written atomically on every change. Without
 * the file the levels are a new cluster's.
 */
export class FeaturesFile {
  constructor(private readonly dir: string) {}

  async load(): Promise<FinalizedFeatures> {
    try {
      const parsed = JSON.parse(await readFile(join(this.dir, FILE), "utf8")) as {
        epoch: string;
        levels: Record<string, number>;
      };
      return {
        epoch: BigInt(parsed.epoch),
        levels: SUPPORTED_FEATURES.filter((f) => typeof parsed.levels[f.name] === "number").map((f) => ({
          name: f.name,
          level: parsed.levels[f.name]!,
        })),
      };
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== "ENOENT") throw e;
      return { epoch: FINALIZED_FEATURES_EPOCH, levels: FINALIZED_FEATURES };
    }
  }

  async save(features: FinalizedFeatures): Promise<void> {
    await mkdir(this.dir, { recursive: true });
    const levels = Object.fromEntries(features.levels.map((f) => [f.name, f.level]));
    await writeFileAtomic(join(this.dir, FILE), JSON.stringify({ epoch: features.epoch.toString(), levels }));
  }
}
