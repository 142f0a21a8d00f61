import type { FinalizedFeatures } from "./metadata.js";

/**
 * Feature levels (KIP-584) as this broker reports them in ApiVersions and accepts in UpdateFeatures.
 * Only what we really serve is listed, each finalized at its one supported level: group.version 1 is
 * the KIP-848 consumer protocol. Kafka 4.4 also reports metadata.version and kraft.version (KRaft,
 * which we do not run), transaction.version (transactions), share.version and streams.version (share
 * and streams groups); a client that sees none of those does not try what they enable.
 */
export interface FeatureRange {
  readonly name: string;
  readonly minVersion: number;
  readonly maxVersion: number;
}

export const SUPPORTED_FEATURES: readonly FeatureRange[] = [{ name: "group.version", minVersion: 1, maxVersion: 1 }];

/** The finalized level of each feature, and the epoch of that set (it never changes here). */
export const FINALIZED_FEATURES: readonly { name: string; level: number }[] = SUPPORTED_FEATURES.map((f) => ({
  name: f.name,
  level: f.maxVersion,
}));
export const FINALIZED_FEATURES_EPOCH = 0n;

/** UpgradeType of UpdateFeatures v1+ (v0's AllowDowngrade maps to SAFE_DOWNGRADE). */
export const UpgradeType = { UPGRADE: 1, SAFE_DOWNGRADE: 2, UNSAFE_DOWNGRADE: 3 } as const;

/** Why an update to `level` of `name` cannot be made, or undefined when it can (it changes nothing). */
export function invalidFeatureUpdate(
  finalized: FinalizedFeatures,
  name: string,
  level: number,
  upgradeType: number,
): string | undefined {
  const supported = SUPPORTED_FEATURES.find((f) => f.name === name);
  if (supported === undefined) return `Feature ${name} is not supported by this broker.`;
  const current = finalized.levels.find((f) => f.name === name)?.level ?? 0;
  if (level < current && upgradeType === UpgradeType.UPGRADE)
    return `Can't downgrade the version of feature ${name} from ${current} to ${level} without setting the upgrade type to safe or unsafe downgrade.`;
  if (level < supported.minVersion || level > supported.maxVersion)
    return `Feature ${name} can only be at level ${supported.minVersion}-${supported.maxVersion} on this broker, not ${level}.`;
  return undefined;
}
