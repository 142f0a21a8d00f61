import { BlockList, isIPv4, isIPv6 } from "node:net";
import { WILDCARD } from "./acl.js";

/**
 * The host of an ACL: `*`, one IP address, or (Kafka 4.4, KIP-1166) a CIDR block such as `10.0.0.0/8` or
 * `fd00::/8`, which matches every client address in it (the network and broadcast addresses included).
 */

const IPV4_CIDR = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})\/(\d{1,2})$/;

/** Why a CIDR host is refused, in the words of the parser Kafka uses (commons-net SubnetUtils), or undefined. */
export function cidrProblem(host: string): string | undefined {
  if (host.includes(":")) {
    const [address, bits, extra] = host.split("/");
    const n = Number(bits);
    const ok = extra === undefined && isIPv6(address ?? "") && /^\d{1,3}$/.test(bits ?? "") && n <= 128;
    return ok ? undefined : `Could not parse [${host}]`;
  }
  const m = IPV4_CIDR.exec(host);
  if (m === null) return `Could not parse [${host}]`;
  for (const octet of m.slice(1, 5)) if (Number(octet) > 255) return `Value [${octet}] not in range [0,255]`;
  if (Number(m[5]) > 32) return `Value [${m[5]}] not in range [0,32]`;
  return undefined;
}

export const isCidr = (host: string): boolean => host.includes("/");

/** A test of client addresses against an ACL host (a CIDR block parsed once). */
export function hostMatcher(aclHost: string): (clientHost: string) => boolean {
  if (aclHost === WILDCARD) return () => true;
  if (!isCidr(aclHost) || cidrProblem(aclHost) !== undefined) return (h) => h === aclHost;
  const [address, bits] = aclHost.split("/") as [string, string];
  const family = aclHost.includes(":") ? "ipv6" : "ipv4";
  const block = new BlockList();
  block.addSubnet(address, Number(bits), family);
  return (h) => (family === "ipv6" ? isIPv6(h) : isIPv4(h)) && block.check(h, family);
}
