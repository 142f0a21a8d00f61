import { createRequire } from "node:module";
import type { RE2JS } from "re2js";

type Re2Module = typeof import("re2js");
let re2js: Re2Module | undefined;

/**
 * A client's regular expression compiled as Kafka compiles it (RE2/J), or why it is invalid. re2js is
 * loaded (its CommonJS build, synchronously) on the first expression: a broker whose clients send none
 * does not carry it (~2 MiB of a start-up's memory).
 */
export function compileRe2(source: string): RE2JS | string {
  re2js ??= createRequire(import.meta.url)("re2js") as Re2Module;
  try {
    return re2js.RE2JS.compile(source);
  } catch (e) {
    if (!(e instanceof re2js.RE2JSException)) throw e;
    return e.message;
  }
}
