import type { CompiledSchema } from "../load.js";
import type { MessageSpec } from "../schema.js";
import { ImportSet } from "./imports.js";

export interface ApiPair {
  readonly apiKey: number;
  /** `Produce` for ProduceRequest/ProduceResponse. */
  readonly name: string;
  readonly request: MessageSpec;
  readonly response: MessageSpec;
  /** The versions each Kafka release defines, oldest release first. */
  readonly releases: CompiledSchema["releaseVersions"];
  /** The path of each message's module, relative to the repository root. */
  readonly requestModule: string;
  readonly responseModule: string;
}

/** Pairs every request with its response by API key, failing on a key with only one side. */
export function pairApis(compiled: readonly { schema: CompiledSchema; module: string }[]): ApiPair[] {
  type Side = { spec: MessageSpec; module: string; releases: CompiledSchema["releaseVersions"] };
  const requests = new Map<number, Side>();
  const responses = new Map<number, Side>();
  for (const c of compiled) {
    const m: Side = { spec: c.schema.spec, module: c.module, releases: c.schema.releaseVersions };
    if (m.spec.apiKey === undefined) continue;
    const side = m.spec.type === "request" ? requests : m.spec.type === "response" ? responses : undefined;
    if (side === undefined) continue;
    if (side.has(m.spec.apiKey)) throw new Error(`${m.spec.file}: API key ${m.spec.apiKey} is used twice`);
    side.set(m.spec.apiKey, m);
  }
  const pairs: ApiPair[] = [];
  for (const [key, req] of [...requests].sort((a, b) => a[0] - b[0])) {
    const res = responses.get(key);
    if (res === undefined) throw new Error(`${req.spec.file}: no response for API key ${key}`);
    if (!req.spec.validVersions.equals(res.spec.validVersions))
      throw new Error(
        `${req.spec.file}: valid versions ${req.spec.validVersions} differ from the response's ${res.spec.validVersions}`,
      );
    pairs.push({
      apiKey: key,
      name: req.spec.name.replace(/Request$/, ""),
      request: req.spec,
      response: res.spec,
      releases: req.releases,
      requestModule: req.module,
      responseModule: res.module,
    });
  }
  for (const key of responses.keys())
    if (!requests.has(key)) throw new Error(`API key ${key} has a response but no request`);
  return pairs;
}

/** Statements of the API table module, and the symbols they import (codecs, message types, runtime types). */
export function emitApiTable(pairs: readonly ApiPair[]): { text: string; imports: ImportSet } {
  const imports = new ImportSet();
  const lines = [
    ...apiKeys(pairs, imports),
    "",
    ...apiInfoType(imports),
    "",
    ...apisTable(pairs, imports),
    "",
    ...headerVersions(pairs),
  ];
  return { text: lines.join("\n"), imports };
}

/** `ApiKey` by name, and the request and response types of each key. */
function apiKeys(pairs: readonly ApiPair[], imports: ImportSet): string[] {
  const type = (module: string, m: MessageSpec): string => imports.add(module, m.name, "type");
  return [
    "/** Every Kafka API key by name. */",
    "export const ApiKey = {",
    ...pairs.map((p) => `${p.name}: ${p.apiKey},`),
    "} as const;",
    "export type ApiKey = (typeof ApiKey)[keyof typeof ApiKey];",
    "",
    "/** The request type of each API key (superset of all versions). */",
    "export interface ApiRequests {",
    ...pairs.map((p) => `${p.apiKey}: ${type(p.requestModule, p.request)};`),
    "}",
    "/** The response type of each API key (superset of all versions). */",
    "export interface ApiResponses {",
    ...pairs.map((p) => `${p.apiKey}: ${type(p.responseModule, p.response)};`),
    "}",
  ];
}

function apiInfoType(imports: ImportSet): string[] {
  const range = imports.runtime("VersionRange");
  const codec = imports.runtime("MessageCodec");
  return [
    "/** An API as a server or client dispatches on it. */",
    "export interface ApiInfo<K extends keyof ApiRequests = keyof ApiRequests> {",
    "readonly apiKey: K;",
    "readonly name: string;",
    `readonly validVersions: ${range};`,
    "/** Flexible (compact, tagged-field) versions, or null when there are none. */",
    `readonly flexibleVersions: ${range} | null;`,
    `readonly deprecatedVersions: ${range} | null;`,
    "/** When true, Kafka marks the highest valid version as still under development. */",
    "readonly latestVersionUnstable: boolean;",
    "/** The Kafka releases that define this API, each with the versions it defines. */",
    `readonly releases: readonly { readonly release: string; readonly versions: ${range} }[];`,
    "readonly listeners: readonly string[];",
    `readonly request: ${codec}<ApiRequests[K]>;`,
    `readonly response: ${codec}<ApiResponses[K]>;`,
    "}",
  ];
}

/** `apis`, every API by key, and `apiInfo(key)`. */
function apisTable(pairs: readonly ApiPair[], imports: ImportSet): string[] {
  const range = (lo: number, hi: number): string => `{ min: ${lo}, max: ${hi} }`;
  const lines = [
    "/** Every API, indexed by key. */",
    "export const apis: { readonly [K in keyof ApiRequests]: ApiInfo<K> } = {",
  ];
  for (const p of pairs) {
    const v = p.request.validVersions;
    const flex = p.request.flexibleVersions.intersect(v);
    const dep = p.request.deprecatedVersions.intersect(v);
    const rel = p.releases.map(
      (r) => `{ release: ${JSON.stringify(r.release)}, versions: ${range(r.versions.lowest, r.versions.highest)} }`,
    );
    lines.push(
      `${p.apiKey}: {`,
      `apiKey: ${p.apiKey},`,
      `name: ${JSON.stringify(p.name)},`,
      `validVersions: ${range(v.lowest, v.highest)},`,
      `flexibleVersions: ${flex.empty ? "null" : range(flex.lowest, flex.highest)},`,
      `deprecatedVersions: ${dep.empty ? "null" : range(dep.lowest, dep.highest)},`,
      `latestVersionUnstable: ${p.request.latestVersionUnstable},`,
      `releases: [${rel.join(", ")}],`,
      `listeners: ${JSON.stringify(p.request.listeners)},`,
      `request: ${imports.add(p.requestModule, `${p.request.name}Codec`, "value")},`,
      `response: ${imports.add(p.responseModule, `${p.response.name}Codec`, "value")},`,
      "},",
    );
  }
  lines.push(
    "};",
    "",
    "/** The API with this key, or undefined for a key no compiled Kafka release defines. */",
    "export function apiInfo(apiKey: number): ApiInfo | undefined {",
    "return (apis as Partial<Record<number, ApiInfo>>)[apiKey];",
    "}",
  );
  return lines;
}

/** The request and response header version of each API version. */
function headerVersions(pairs: readonly ApiPair[]): string[] {
  const keyOf = (name: string, fallback: number): number => pairs.find((p) => p.name === name)?.apiKey ?? fallback;
  return [
    "/**",
    " * The request header version an API version uses: 2 when the API version is flexible, else 1;",
    " * ControlledShutdown v0 predates client ids and uses header v0.",
    " */",
    "export function requestHeaderVersion(apiKey: number, apiVersion: number): number {",
    `if (apiKey === ${keyOf("ControlledShutdown", 7)} && apiVersion === 0) return 0;`,
    "const flex = apiInfo(apiKey)?.flexibleVersions;",
    "return flex != null && apiVersion >= flex.min ? 2 : 1;",
    "}",
    "",
    "/**",
    " * The response header version: 1 when flexible, else 0. ApiVersions responses always use v0, so a",
    " * client that does not know the broker's versions yet can still read the answer.",
    " */",
    "export function responseHeaderVersion(apiKey: number, apiVersion: number): number {",
    `if (apiKey === ${keyOf("ApiVersions", 18)}) return 0;`,
    "const flex = apiInfo(apiKey)?.flexibleVersions;",
    "return flex != null && apiVersion >= flex.min ? 1 : 0;",
    "}",
  ];
}
