import { ApiKey, createApiVersionsResponse } from "@tskafka/protocol";
import { defineHandler } from "./handler.js";

/**
 * ApiVersions v0-4: the versions of every API this broker serves, built from the handler registry.
 * An unsupported ApiVersions version is answered by the connection in v0 format (KIP-511).
 */
export const apiVersionsHandler = defineHandler({
  apiKey: ApiKey.ApiVersions,
  minVersion: 0,
  maxVersion: 4,
  handle(_request, ctx) {
    const body = ctx.broker.apiVersionsResponse();
    return createApiVersionsResponse({ ...body, errorCode: 0 });
  },
});
