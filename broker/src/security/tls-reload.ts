import { X509Certificate } from "node:crypto";
import type { TlsOptions } from "node:tls";
import { pkcs12KeyCertificate } from "./pkcs12.js";

/**
 * Kafka's rule for a key store replaced at runtime: the new certificate must have the old one's
 * distinguished name and subject alternative names, unless ssl.allow.dn.changes / ssl.allow.san.changes
 * say otherwise (a renewal, not another identity).
 */

/** The certificate of the key in TLS options (PEM chain or PKCS12), or undefined when there is none. */
export function keyCertificate(o: TlsOptions): X509Certificate | undefined {
  let pem: string | undefined;
  if (o.pfx !== undefined) pem = pkcs12KeyCertificate(o.pfx as Buffer, o.passphrase);
  else if (typeof o.cert === "string")
    pem = /-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/.exec(o.cert)?.[0];
  return pem === undefined ? undefined : new X509Certificate(pem);
}

/** The subject as Java prints it: most specific first, ", " between. */
const dn = (c: X509Certificate): string =>
  c.subject
    .split("\n")
    .filter((s) => s !== "")
    .reverse()
    .join(", ");
const sans = (c: X509Certificate): string => (c.subjectAltName ?? "").split(", ").sort().join(", ");

/** Why `next` may not replace `current`, in Kafka's words; undefined when it may. */
export function identityChange(
  current: TlsOptions,
  next: TlsOptions,
  allow: { readonly dn: boolean; readonly san: boolean },
): string | undefined {
  const [a, b] = [keyCertificate(current), keyCertificate(next)];
  if (a === undefined || b === undefined) return undefined;
  if (!allow.dn && dn(a) !== dn(b))
    return `Keystore DistinguishedName does not match:  existing={DN=${dn(a)}}, new={DN=${dn(b)}}`;
  if (!allow.san && sans(a) !== sans(b))
    return `Keystore SubjectAltNames do not match:  existing={SAN=${sans(a)}}, new={SAN=${sans(b)}}`;
  return undefined;
}
