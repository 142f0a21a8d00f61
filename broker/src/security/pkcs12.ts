import { createRequire } from "node:module";
import type Forge from "node-forge";

// node-forge (about 9 MiB of memory once loaded) is required on the first PKCS12 file, not at start-up.
const require = createRequire(import.meta.url);
let forgeLib: typeof Forge | undefined;
function forgeOf(): typeof Forge {
  return (forgeLib ??= require("node-forge") as typeof Forge);
}

/**
 * PKCS12 files read with node-forge, for what Node cannot do with them: a trust store holds
 * certificates without a private key (Node takes PKCS12 only with one), and a key store's own
 * certificate is compared with its replacement's when it is reloaded.
 */

export class Pkcs12Error extends Error {
  constructor(
    message: string,
    readonly badPassword: boolean,
  ) {
    super(message);
  }
}

interface CertBag {
  readonly pem: string;
  /** Set on the certificate of a key entry (the key's own). */
  readonly localKeyId: string | undefined;
}

function toPem(der: string): string {
  const b64 = Buffer.from(der, "binary").toString("base64");
  return `-----BEGIN CERTIFICATE-----\n${b64.replace(/(.{64})/g, "$1\n").replace(/\n$/, "")}\n-----END CERTIFICATE-----\n`;
}

function certBags(der: Buffer, password: string | undefined): CertBag[] {
  const forge = forgeOf();
  let p12: Forge.pkcs12.Pkcs12Pfx;
  try {
    p12 = forge.pkcs12.pkcs12FromAsn1(forge.asn1.fromDer(der.toString("binary")), password ?? "");
  } catch (e) {
    const msg = (e as Error).message;
    throw new Pkcs12Error(msg, /mac|password|decrypt/i.test(msg));
  }
  const certBag = forge.pki.oids.certBag!;
  return (p12.getBags({ bagType: certBag })[certBag] ?? []).map((bag) => {
    // forge decodes RSA certificates only; any other one is kept as its ASN.1.
    const asn1 = bag.cert ? forge.pki.certificateToAsn1(bag.cert) : (bag as { asn1?: Forge.asn1.Asn1 }).asn1!;
    const keyId = (bag.attributes as { localKeyId?: string[] }).localKeyId?.[0];
    return { pem: toPem(forge.asn1.toDer(asn1).getBytes()), localKeyId: keyId };
  });
}

/** Every certificate of a PKCS12 file (PEM), as a Java trust store holds them (keytool -importcert). */
export function pkcs12Certificates(der: Buffer, password: string | undefined): string[] {
  return certBags(der, password).map((b) => b.pem);
}

/** The certificate of a PKCS12 key store's key entry (PEM): the first one tied to a key, else the first. */
export function pkcs12KeyCertificate(der: Buffer, password: string | undefined): string | undefined {
  const bags = certBags(der, password);
  return (bags.find((b) => b.localKeyId !== undefined) ?? bags[0])?.pem;
}
