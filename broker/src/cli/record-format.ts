/** How the CLI and the console show a key, header or value: as text, as JSON (pretty when it parses), or as hex. */
export type RecordFormat = "text" | "json" | "hex";

export const RECORD_FORMATS: readonly RecordFormat[] = ["text", "json", "hex"];

export function showBytes(b: Buffer | null, format: RecordFormat): string {
  if (b === null) return "null";
  if (format === "hex") return b.toString("hex");
  const text = b.toString("utf8");
  if (format === "json") {
    try {
      return JSON.stringify(JSON.parse(text), null, 2);
    } catch {
      return text;
    }
  }
  return text;
}

/** The JSON value of a record's bytes: parsed when it is JSON, else its text. */
export function jsonValue(b: Buffer | null): unknown {
  if (b === null) return null;
  const text = b.toString("utf8");
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}
