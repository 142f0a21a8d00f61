import type { CompiledSchema } from "../load.js";
import type { MessageSpec } from "../schema.js";

export interface ApiPair {
  readonly apiKey: number;
  /** `Produce` for ProduceRequest/ProduceResponse. */
  readonly name: string;
  readonly request: MessageSpec;
  readonly response: MessageSpec;
  /** The versions each Kafka release defines, oldest release first. */
  readonly releases: CompiledSchema["releaseVersions"];
  /** Import path (without extension) of each message's module, relative to the table. */
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
      throw new Error(`${req.spec.file}: valid versions ${req.spec.validVersions} differ from the response's ${res.spec.validVersions}`);
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
  for (const key of responses.keys()) if (!requests.has(key)) throw new Error(`API key ${key} has a response but no request`);
  return pairs;
}

/** Statements of the API table module; imports are returned separately for ts-morph. */
export function emitApiTable(pairs: readonly ApiPair[]): { text: string; imports: { module: string; names: string[]; typeNames: string[] }[] } {
  const lines: string[] = [];
  lines.push("/** Every Kafka API key by name. */");
  lines.push("export const ApiKey = {");
  for (const p of pairs) lines.push(`${p.name}: ${p.apiKey},`);
  lines.push("} as const;");
  lines.push("export type ApiKey = (typeof ApiKey)[keyof typeof ApiKey];");
  lines.push("");
  lines.push("/** The request type of each API key (superset of all versions). */");
  lines.push("export interface ApiRequests {");
  for (const p of pairs) lines.push(`${p.apiKey}: ${p.request.name};`);
  lines.push("}");
  lines.push("/** The response type of each API key (superset of all versions). */");
  lines.push("export interface ApiResponses {");
  for (const p of pairs) lines.push(`${p.apiKey}: ${p.response.name};`);
  lines.push("}");
  lines.push("");
  lines.push("/** An API as a server or client dispatches on it. */");
  lines.push("export interface ApiInfo<K extends keyof ApiRequests = keyof ApiRequests> {");
  lines.push("readonly apiKey: K;");
  lines.push("readonly name: string;");
  lines.push("readonly validVersions: VersionRange;");
  lines.push("/** Flexible (compact, tagged-field) versions, or null when there are none. */");
  lines.push("readonly flexibleVersions: VersionRange | null;");
  lines.push("readonly deprecatedVersions: VersionRange | null;");
  lines.push("/** When true, Kafka marks the highest valid version as still under development. */");
  lines.push("readonly latestVersionUnstable: boolean;");
  lines.push("/** The Kafka releases that define this API, each with the versions it defines. */");
  lines.push("readonly releases: readonly { readonly release: string; readonly versions: VersionRange }[];");
  lines.push("readonly listeners: readonly string[];");
  lines.push("readonly request: MessageCodec<ApiRequests[K]>;");
  lines.push("readonly response: MessageCodec<ApiResponses[K]>;");
  lines.push("}");
  lines.push("");
  const range = (lo: number, hi: number): string => `{ min: ${lo}, max: ${hi} }`;
  lines.push("/** Every API, indexed by key. */");
  lines.push("export const apis: { readonly [K in keyof ApiRequests]: ApiInfo<K> } = {");
  for (const p of pairs) {
    const v = p.request.validVersions;
    const flex = p.request.flexibleVersions.intersect(v);
    const dep = p.request.deprecatedVersions.intersect(v);
    lines.push(`${p.apiKey}: {`);
    lines.push(`apiKey: ${p.apiKey},`);
    lines.push(`name: ${JSON.stringify(p.name)},`);
    lines.push(`validVersions: ${range(v.lowest, v.highest)},`);
    lines.push(`flexibleVersions: ${flex.empty ? "null" : range(flex.lowest, flex.highest)},`);
    lines.push(`deprecatedVersions: ${dep.empty ? "null" : range(dep.lowest, dep.highest)},`);
    lines.push(`latestVersionUnstable: ${p.request.latestVersionUnstable},`);
    const rel = p.releases.map((r) => `{ release: ${JSON.stringify(r.release)}, versions: ${range(r.versions.lowest, r.versions.highest)} }`);
    lines.push(`releases: [${rel.join(", ")}],`);
    lines.push(`listeners: ${JSON.stringify(p.request.listeners)},`);
    lines.push(`request: ${p.request.name}Codec,`);
    lines.push(`response: ${p.response.name}Codec,`);
    lines.push("},");
  }
  lines.push("};");
  lines.push("");
  lines.push("/** The API with this key, or undefined for a key no compiled Kafka release defines. */");
  lines.push("export function apiInfo(apiKey: number): ApiInfo | undefined {");
  lines.push("return (apis as Partial<Record<number, ApiInfo>>)[apiKey];");
  lines.push("}");
  lines.push("");
  lines.push("/**");
  lines.push(" * The request header version an API version uses: 2 when the API version is flexible, else 1;");
  lines.push(" * ControlledShutdown v0 predates client ids and uses header v0.");
  lines.push(" */");
  lines.push("export function requestHeaderVersion(apiKey: number, apiVersion: number): number {");
  lines.push(`if (apiKey === ${pairs.find((p) => p.name === "ControlledShutdown")?.apiKey ?? 7} && apiVersion === 0) return 0;`);
  lines.push("const flex = apiInfo(apiKey)?.flexibleVersions;");
  lines.push("return flex != null && apiVersion >= flex.min ? 2 : 1;");
  lines.push("}");
  lines.push("");
  lines.push("/**");
  lines.push(" * The response header version: 1 when flexible, else 0. ApiVersions responses always use v0, so a");
  lines.push(" * client that does not know the broker's versions yet can still read the answer.");
  lines.push(" */");
  lines.push("export function responseHeaderVersion(apiKey: number, apiVersion: number): number {");
  lines.push(`if (apiKey === ${pairs.find((p) => p.name === "ApiVersions")?.apiKey ?? 18}) return 0;`);
  lines.push("const flex = apiInfo(apiKey)?.flexibleVersions;");
  lines.push("return flex != null && apiVersion >= flex.min ? 1 : 0;");
  lines.push("}");

  const imports = pairs.flatMap((p) => [
    { module: p.requestModule, names: [`${p.request.name}Codec`], typeNames: [p.request.name] },
    { module: p.responseModule, names: [`${p.response.name}Codec`], typeNames: [p.response.name] },
  ]);
  return { text: lines.join("\n"), imports };
}
