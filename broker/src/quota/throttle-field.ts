import { apis } from "@tskafka/protocol";

const ranges = new Map<number, { min: number; max: number } | null>();
/** The descriptors are loaded when a client is first throttled: a broker without quotas never needs them. */
let descriptors: Promise<typeof import("@tskafka/protocol/descriptors")> | undefined;

/** The versions of an API's response that carry throttle_time_ms at the top level (null: none). */
async function throttleVersions(apiKey: number): Promise<{ min: number; max: number } | null> {
  let range = ranges.get(apiKey);
  if (range === undefined) {
    const { messageDescriptors } = await (descriptors ??= import("@tskafka/protocol/descriptors"));
    const name = (apis as Record<number, { response: { name: string } }>)[apiKey]?.response.name;
    const message = name === undefined ? undefined : messageDescriptors[name];
    const field = message?.structs[message.name]?.fields.find((f) => f.name === "throttleTimeMs");
    range = field?.versions ?? null;
    ranges.set(apiKey, range);
  }
  return range;
}

/**
 * Puts the throttle time in a response that has the field in its version, keeping a longer one the
 * handler set (a byte-rate throttle); answers the throttle time the client is told, or `ms` when the
 * response has no such field.
 */
export async function withThrottleTime(apiKey: number, version: number, response: object, ms: number): Promise<number> {
  const range = await throttleVersions(apiKey);
  if (range === null || version < range.min || version > range.max) return ms;
  const body = response as { throttleTimeMs: number };
  body.throttleTimeMs = Math.max(body.throttleTimeMs, ms);
  return body.throttleTimeMs;
}
