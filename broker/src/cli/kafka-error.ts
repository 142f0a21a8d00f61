/** Kafka error codes as the CLI and the console show them. */

export class KafkaError extends Error {
  constructor(
    readonly code: number,
    message: string,
  ) {
    super(message);
  }
}

/** Kafka error names for the codes people meet here; others print as their number. */
const ERROR_NAMES: Record<number, string> = {
  1: "OFFSET_OUT_OF_RANGE",
  3: "UNKNOWN_TOPIC_OR_PARTITION",
  5: "LEADER_NOT_AVAILABLE",
  14: "COORDINATOR_LOAD_IN_PROGRESS",
  15: "COORDINATOR_NOT_AVAILABLE",
  16: "NOT_COORDINATOR",
  25: "UNKNOWN_MEMBER_ID",
  29: "TOPIC_AUTHORIZATION_FAILED",
  30: "GROUP_AUTHORIZATION_FAILED",
  31: "CLUSTER_AUTHORIZATION_FAILED",
  36: "TOPIC_ALREADY_EXISTS",
  37: "INVALID_PARTITIONS",
  38: "INVALID_REPLICATION_FACTOR",
  40: "INVALID_CONFIG",
  17: "INVALID_TOPIC_EXCEPTION",
  41: "NOT_CONTROLLER",
  69: "GROUP_ID_NOT_FOUND",
  68: "NON_EMPTY_GROUP",
  35: "UNSUPPORTED_VERSION",
  54: "SECURITY_DISABLED",
  33: "UNSUPPORTED_SASL_MECHANISM",
  34: "ILLEGAL_SASL_STATE",
  58: "SASL_AUTHENTICATION_FAILED",
};

export function errorName(code: number): string {
  return ERROR_NAMES[code] ?? `error ${code}`;
}

export function check(code: number, what: string, message?: string | null): void {
  if (code !== 0) throw new KafkaError(code, `${what}: ${errorName(code)}${message ? ` (${message})` : ""}`);
}
