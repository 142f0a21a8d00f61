// The log store answers with the broker's Kafka error codes.
export { ErrorCode } from "../errors.js";
