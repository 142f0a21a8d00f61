import { EncodeError } from "./errors.js";
import { Reader, type ReaderOptions } from "./reader.js";
import { Writer } from "./writer.js";

export interface VersionRange {
  readonly min: number;
  readonly max: number;
}

/** What every generated message exports as `<Name>Codec`: its superset-typed functions. */
export interface MessageCodec<T> {
  readonly name: string;
  readonly validVersions: VersionRange;
  /** The flexible versions within the valid ones, or null when none are. */
  readonly flexibleVersions: VersionRange | null;
  encode(w: Writer, m: T, version: number): void;
  decode(r: Reader, version: number): T;
  size(m: T, version: number): number;
  create(init?: Partial<T>): T;
}

/** The one empty buffer that `bytes` defaults share (zero bytes cannot be mutated). */
export const EMPTY_BYTES: Buffer = Buffer.alloc(0);

/** The all-zero UUID in the base64url form uuid fields use: Kafka's "no topic id" (Uuid.ZERO_UUID). */
export const ZERO_UUID = "AAAAAAAAAAAAAAAAAAAAAA";

/** For `x ?? nullError(...)`: a null where the version being written has no null. */
export function nullError(messageName: string, version: number, field: string): never {
  throw new EncodeError(messageName, version, field, "is null but this version cannot carry a null");
}

/** Encodes a message into a buffer of exactly its size. */
export function encodeToBuffer<T>(codec: MessageCodec<T>, m: T, version: number): Buffer {
  const w = Writer.alloc(codec.size(m, version));
  codec.encode(w, m, version);
  return w.buf;
}

/** Decodes a whole buffer as one message, failing if bytes are left over. */
export function decodeFromBuffer<T>(codec: MessageCodec<T>, buf: Buffer, version: number, options?: ReaderOptions): T {
  const r = new Reader(buf, 0, buf.length, options);
  const m = codec.decode(r, version);
  if (r.off !== r.end) r.fail("(end)", `${r.end - r.off} bytes left over after the message`);
  return m;
}
