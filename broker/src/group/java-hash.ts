/**
 * Kafka maps a group to its `__consumer_offsets` partition with `Utils.abs(groupId.hashCode()) % n`,
 * using Java's String.hashCode over UTF-16 code units; clients and tools assume the same mapping.
 */
export function javaStringHashCode(s: string): number {
  let h = 0;
  for (let i = 0; i < s.length; i++) h = (Math.imul(h, 31) + s.charCodeAt(i)) | 0;
  return h;
}

/** Kafka's Utils.abs: Math.abs, except that Integer.MIN_VALUE maps to 0. */
function javaAbs(n: number): number {
  return n === -2147483648 ? 0 : Math.abs(n);
}

export function offsetsPartitionFor(groupId: string, partitions: number): number {
  return javaAbs(javaStringHashCode(groupId)) % partitions;
}
