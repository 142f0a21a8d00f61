// @tskafka/protocol: Kafka's wire protocol, generated from Apache Kafka's JSON schemas, with the
// record formats the schemas leave opaque.
export * from "./runtime/index.js";
export * from "./gen/index.js";
export * from "./frames.js";
export * from "./records/index.js";
