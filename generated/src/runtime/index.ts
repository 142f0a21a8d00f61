export { DecodeError, EncodeError, UnsupportedVersionError } from "./errors.js";
export { Reader, type ReaderOptions } from "./reader.js";
export { Writer, sizeOfUnsignedVarint, sizeOfVarint, sizeOfVarlong, utf8Length } from "./writer.js";
export { type TaggedField, writeUnknownTaggedFields, sizeOfUnknownTaggedFields } from "./tagged.js";
export {
  type MessageCodec,
  type VersionRange,
  EMPTY_BYTES,
  ZERO_UUID,
  nullError,
  encodeToBuffer,
  decodeFromBuffer,
} from "./codec.js";
