/** A message that cannot be read or written, naming where: `Message vN: Field.Path: reason`. */
abstract class FieldError extends Error {
  constructor(
    /** The message (or record format), e.g. `ProduceRequest`. */
    readonly messageName: string,
    readonly version: number,
    /** Dotted schema path of the field, e.g. `TopicData.PartitionData.Records`. */
    readonly field: string,
    readonly reason: string,
  ) {
    super(`${messageName} v${version}: ${field}: ${reason}`);
  }
}

/** Thrown by a decoder when the bytes do not form a valid message of the version asked for. */
export class DecodeError extends FieldError {
  override readonly name = "DecodeError";
}

/** Thrown by an encoder when a value cannot be written in the version asked for. */
export class EncodeError extends FieldError {
  override readonly name = "EncodeError";
}

/** A version outside a message's valid range was asked for. */
export class UnsupportedVersionError extends Error {
  override readonly name = "UnsupportedVersionError";
  constructor(
    readonly messageName: string,
    readonly version: number,
  ) {
    super(`${messageName}: version ${version} is not supported`);
  }
}
