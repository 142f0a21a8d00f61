import type { Handler } from "./handler.js";
import { apiVersionsHandler } from "./api-versions.js";
import { metadataHandler } from "./metadata.js";
import { produceHandler } from "./produce.js";
import { fetchHandler } from "./fetch.js";
import { listOffsetsHandler } from "./list-offsets.js";
import { initProducerIdHandler } from "./init-producer-id.js";

/** Every API this broker serves; ApiVersions advertises exactly these. */
export const HANDLERS: readonly Handler[] = [
  apiVersionsHandler,
  metadataHandler,
  produceHandler,
  fetchHandler,
  listOffsetsHandler,
  initProducerIdHandler,
];
