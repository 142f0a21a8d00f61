/**
 * tskafka as a library: {@link startBroker} runs a Kafka-compatible broker inside the calling Node.js
 * process (tests, tools); `npx tskafka` (the `bin`) runs it as a server.
 *
 * @packageDocumentation
 */
export { startBroker, type EmbeddedBroker, type StartBrokerOptions } from "./embedded.js";
export { ConfigError } from "./config.js";
export type { LogLevel } from "./logger.js";
