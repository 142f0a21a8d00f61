import { X509Certificate } from "node:crypto";
import { readFileSync } from "node:fs";
import { Pkcs12Error, pkcs12Certificates } from "./pkcs12.js";
import {
  createSecureContext,
  type ConnectionOptions,
  type SecureContextOptions,
  type TLSSocket,
  type TlsOptions,
} from "node:tls";

/**
 * TLS for SSL and SASL_SSL listeners from Kafka's ssl.* keys: key stores in PEM (a file with the chain
 * and the key, or both inline) or PKCS12, trust stores in PEM or PKCS12 (read with node-forge), client certificates none /
 * requested / required, TLS versions and cipher suites. JKS cannot be read here: it is refused naming
 * the key. The principal of a client certificate is its subject as Kafka prints it (RFC 2253).
 */

/** A setting is wrong: `key` names it (with its listener prefix when it came from there). */
export class TlsConfigError extends Error {
  constructor(
    readonly key: string,
    message: string,
  ) {
    super(message);
  }
}

/** The ssl.* value of one listener, and the name it was given under (for messages). */
export type SslLookup = (key: string) => string | undefined;

export interface TlsServerSettings {
  readonly options: TlsOptions;
  /** "requested": a certificate is asked for but optional; an invalid one still ends the connection. */
  readonly clientAuth: "none" | "requested" | "required";
  /** ssl.principal.mapping.rules: from a certificate subject to a principal name. */
  readonly rules: readonly MappingRule[];
}

const PEM_BLOCK = /-----BEGIN ([A-Z0-9 ]+)-----[\s\S]*?-----END \1-----/g;

function pemBlocks(text: string): { certs: string[]; keys: string[] } {
  const certs: string[] = [];
  const keys: string[] = [];
  for (const m of text.matchAll(PEM_BLOCK)) {
    if (m[1] === "CERTIFICATE") certs.push(m[0]);
    else if (m[1]!.endsWith("PRIVATE KEY")) keys.push(m[0]);
  }
  return { certs, keys };
}

function readFile(key: string, path: string): Buffer {
  try {
    return readFileSync(path);
  } catch (e) {
    throw new TlsConfigError(key, `cannot read ${path}: ${(e as Error).message}`);
  }
}

/**
 * Inline PEM as a properties file gives it (line continuations join the lines, or `\n` stands for
 * them): each block rebuilt with its base64 body in lines of 64.
 */
function inlinePem(text: string): string {
  const blocks = text.replace(/\\n/g, "\n").matchAll(/-----BEGIN ([A-Z0-9 ]+)-----([\s\S]*?)-----END \1-----/g);
  return [...blocks]
    .map(([, type, body]) => {
      const b64 = body!.replace(/\s+/g, "");
      return `-----BEGIN ${type}-----\n${b64.replace(/(.{64})/g, "$1\n").replace(/\n$/, "")}\n-----END ${type}-----\n`;
    })
    .join("");
}

function keyStore(get: SslLookup): SecureContextOptions {
  const type = get("ssl.keystore.type") ?? "JKS";
  const location = get("ssl.keystore.location");
  if (type === "JKS")
    throw new TlsConfigError("ssl.keystore.type", "JKS key stores are not supported: use PEM or PKCS12");
  if (type === "PKCS12") {
    if (location === undefined) throw new TlsConfigError("ssl.keystore.location", "a PKCS12 key store needs a file");
    const passphrase = get("ssl.keystore.password");
    return { pfx: readFile("ssl.keystore.location", location), ...(passphrase !== undefined ? { passphrase } : {}) };
  }
  const text =
    location !== undefined
      ? readFile("ssl.keystore.location", location).toString("utf8")
      : inlinePem(`${get("ssl.keystore.certificate.chain") ?? ""}\n${get("ssl.keystore.key") ?? ""}`);
  const { certs, keys } = pemBlocks(text);
  const where = location !== undefined ? "ssl.keystore.location" : "ssl.keystore.certificate.chain";
  if (certs.length === 0) throw new TlsConfigError(where, "no certificate found in the PEM key store");
  if (keys.length === 0)
    throw new TlsConfigError(
      location !== undefined ? where : "ssl.keystore.key",
      "no private key found in the PEM key store",
    );
  const passphrase = get("ssl.key.password");
  return { cert: certs.join("\n"), key: keys[0]!, ...(passphrase !== undefined ? { passphrase } : {}) };
}

function trustStore(get: SslLookup): SecureContextOptions {
  const type = get("ssl.truststore.type") ?? "JKS";
  const location = get("ssl.truststore.location");
  const inline = get("ssl.truststore.certificates");
  if (location === undefined && inline === undefined) return {};
  if (type === "JKS")
    throw new TlsConfigError("ssl.truststore.type", "JKS trust stores are not supported: use PEM or PKCS12");
  if (type === "PKCS12") {
    if (location === undefined)
      throw new TlsConfigError("ssl.truststore.location", "a PKCS12 trust store needs a file");
    let certs: string[];
    try {
      certs = pkcs12Certificates(readFile("ssl.truststore.location", location), get("ssl.truststore.password"));
    } catch (e) {
      if (!(e instanceof Pkcs12Error)) throw e;
      const key = e.badPassword ? "ssl.truststore.password" : "ssl.truststore.location";
      throw new TlsConfigError(key, `the PKCS12 trust store cannot be read: ${e.message}`);
    }
    if (certs.length === 0)
      throw new TlsConfigError("ssl.truststore.location", "no certificate found in the PKCS12 trust store");
    return { ca: certs };
  }
  const text =
    location !== undefined ? readFile("ssl.truststore.location", location).toString("utf8") : inlinePem(inline!);
  const { certs } = pemBlocks(text);
  if (certs.length === 0)
    throw new TlsConfigError(
      location !== undefined ? "ssl.truststore.location" : "ssl.truststore.certificates",
      "no certificate found in the PEM trust store",
    );
  return { ca: certs };
}

const VERSION_ORDER = ["TLSv1", "TLSv1.1", "TLSv1.2", "TLSv1.3"] as const;

function versions(get: SslLookup): Pick<TlsOptions, "minVersion" | "maxVersion"> {
  const enabled = (get("ssl.enabled.protocols") ?? "TLSv1.2,TLSv1.3")
    .split(",")
    .map((s) => s.trim())
    .filter((s) => s !== "");
  const idx = enabled.map((v) => VERSION_ORDER.indexOf(v as (typeof VERSION_ORDER)[number]));
  if (idx.length === 0 || idx.some((i) => i < 0))
    throw new TlsConfigError("ssl.enabled.protocols", `expected some of ${VERSION_ORDER.join(", ")}`);
  return { minVersion: VERSION_ORDER[Math.min(...idx)]!, maxVersion: VERSION_ORDER[Math.max(...idx)]! };
}

/**
 * OpenSSL's name of a cipher suite given with its IANA (Java) name, as Kafka's ssl.cipher.suites takes
 * them: TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256 is ECDHE-RSA-AES128-GCM-SHA256. TLSv1.3 names and
 * OpenSSL names are the same in both and pass unchanged.
 */
export function opensslCipherName(name: string): string {
  const m = /^(?:TLS|SSL)_(\w+?)_WITH_(\w+)$/.exec(name);
  if (m === null) return name;
  const kx = m[1] === "RSA" ? "" : m[1]!.replace(/_/g, "-");
  const cipher = m[2]!
    .replace(/^AES_(128|256)_/, "AES$1_")
    .replace(/_CBC_SHA$/, "_SHA")
    .replace(/_CBC_/, "_")
    .replace(/^CHACHA20_POLY1305_SHA256$/, "CHACHA20_POLY1305")
    .replace(/_/g, "-");
  return kx === "" ? cipher : `${kx}-${cipher}`;
}

/** The options of a TLS server for one listener; throws TlsConfigError naming the key at fault. */
export function tlsServerSettings(get: SslLookup): TlsServerSettings {
  const clientAuth = (get("ssl.client.auth") ?? "none") as TlsServerSettings["clientAuth"];
  const options: TlsOptions = { ...keyStore(get), ...trustStore(get), ...versions(get) };
  const suites = get("ssl.cipher.suites") ?? "";
  if (suites !== "")
    options.ciphers = suites
      .split(",")
      .map((s) => opensslCipherName(s.trim()))
      .join(":");
  if (clientAuth !== "none") {
    options.requestCert = true;
    options.rejectUnauthorized = clientAuth === "required";
  }
  try {
    createSecureContext(options);
  } catch (e) {
    const msg = (e as Error).message;
    const key = /cipher/i.test(msg)
      ? "ssl.cipher.suites"
      : /pass|decrypt|mac/i.test(msg)
        ? "ssl.keystore.password"
        : "ssl.keystore.location";
    throw new TlsConfigError(key, `the TLS settings cannot be used: ${msg}`);
  }
  let rules: MappingRule[];
  try {
    rules = parseMappingRules(get("ssl.principal.mapping.rules") ?? "DEFAULT");
  } catch (e) {
    throw new TlsConfigError("ssl.principal.mapping.rules", (e as Error).message);
  }
  return { options, clientAuth, rules };
}

/**
 * The options of a TLS client from Kafka's client ssl.* keys (the CLI's --command-config, the console):
 * the same stores as a listener reads them, a key store only for mutual TLS, and the server's name
 * checked unless ssl.endpoint.identification.algorithm is empty (Kafka's default is `https`).
 */
export function tlsClientOptions(get: SslLookup): ConnectionOptions {
  const mutual = get("ssl.keystore.location") !== undefined || get("ssl.keystore.certificate.chain") !== undefined;
  const options: ConnectionOptions = { ...trustStore(get), ...versions(get), ...(mutual ? keyStore(get) : {}) };
  if ((get("ssl.endpoint.identification.algorithm") ?? "https") === "") options.checkServerIdentity = () => undefined;
  try {
    createSecureContext(options);
  } catch (e) {
    throw new TlsConfigError("ssl.keystore.location", `the TLS settings cannot be used: ${(e as Error).message}`);
  }
  return options;
}

/** RFC 2253 escaping of one attribute value, as Java's X500Principal prints it. */
function escapeDnValue(v: string): string {
  let out = v.replace(/([,+"\\<>;])/g, "\\$1");
  if (out.startsWith("#") || out.startsWith(" ")) out = `\\${out}`;
  if (out.endsWith(" ") && out.length > 1) out = `${out.slice(0, -1)}\\ `;
  return out;
}

/**
 * The subject of a verified client certificate, or undefined without one, in RFC 2253 form as Kafka
 * sees it (most specific first, `CN=client,OU=eng,O=org,C=US`); the mapping rules apply to it.
 */
export function certificateSubject(socket: TLSSocket): string | undefined {
  if (!socket.authorized) return undefined;
  const cert: X509Certificate | undefined = socket.getPeerX509Certificate();
  if (cert === undefined) return undefined;
  const rdns = cert.subject.split("\n").filter((s) => s !== "");
  return rdns
    .reverse()
    .map((rdn) => {
      const eq = rdn.indexOf("=");
      return `${rdn.slice(0, eq)}=${escapeDnValue(rdn.slice(eq + 1))}`;
    })
    .join(",");
}

/** One rule of ssl.principal.mapping.rules: DEFAULT, or RULE:pattern/replacement/[LU]. */
export type MappingRule =
  "DEFAULT" | { readonly pattern: RegExp; readonly replacement: string; readonly fold: "" | "L" | "U" };

const RULE = /^RULE:((?:\\.|[^\\/])*)\/((?:\\.|[^\\/])*)\/([LU]?)\s*(?:,|$)/;

/**
 * Kafka's ssl.principal.mapping.rules: comma-separated `DEFAULT` and `RULE:<regex>/<replacement>/`
 * (with `L` or `U` after it to fold the case). Throws an Error saying what is wrong.
 */
export function parseMappingRules(text: string): MappingRule[] {
  const rules: MappingRule[] = [];
  let rest = text.trim();
  while (rest !== "") {
    const d = /^DEFAULT\s*(?:,|$)/.exec(rest);
    const r = d === null ? RULE.exec(rest) : null;
    const m = d ?? r;
    if (m === null) throw new Error(`expected DEFAULT or RULE:pattern/replacement/[LU] at "${rest.slice(0, 30)}"`);
    if (r !== null) {
      let pattern: RegExp;
      try {
        pattern = new RegExp(`^(?:${r[1]!})$`);
      } catch (e) {
        throw new Error(`bad pattern ${r[1]!}: ${(e as Error).message}`);
      }
      rules.push({ pattern, replacement: r[2]!.replace(/\\\//g, "/"), fold: r[3] as "" | "L" | "U" });
    } else rules.push("DEFAULT");
    rest = rest.slice(m[0].length).trim();
  }
  return rules;
}

/** The principal name of a certificate subject after the rules; undefined when none applies (Kafka fails then). */
export function mapPrincipal(rules: readonly MappingRule[], dn: string): string | undefined {
  for (const rule of rules) {
    if (rule === "DEFAULT") return dn;
    if (!rule.pattern.test(dn)) continue;
    const name = dn.replace(rule.pattern, rule.replacement);
    return rule.fold === "L" ? name.toLowerCase() : rule.fold === "U" ? name.toUpperCase() : name;
  }
  return undefined;
}
