export * from "./batch-header.js";
export * from "./compression.js";
export * from "./record-batch.js";
export * from "./message-set.js";
export * from "./conversion.js";
