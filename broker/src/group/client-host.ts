/** Kafka reports a member's host as the address with a leading slash (Java's InetAddress.toString). */
export function clientHost(remote: string): string {
  const sep = remote.lastIndexOf(":");
  return `/${sep > 0 ? remote.slice(0, sep) : remote}`;
}
