import { ApiKey, createApiVersionsResponse } from "@tskafka/protocol";
import { SUPPORTED_FEATURES } from "../cluster/features.js";
import { ErrorCode } from "../errors.js";
import { defineHandler } from "./handler.js";

/**
 * ApiVersions v0-5: the versions of every API this broker serves, built from the handler registry, and
 * from v3 the supported and finalized features (group.version, transaction.version). v5 (KIP-1242) lets a client name the cluster and node it
 * meant to reach; another one is REBOOTSTRAP_REQUIRED. An unsupported ApiVersions version is answered by
 * the connection in v0 format (KIP-511).
 */
export const apiVersionsHandler = defineHandler({
  apiKey: ApiKey.ApiVersions,
  minVersion: 0,
  maxVersion: 5,
  handle(request, ctx) {
    const body = ctx.services.apiVersionsResponse();
    const services = ctx.services;
    const wrongCluster = request.clusterId !== null && request.clusterId !== services.metadata.clusterId;
    const wrongNode = request.nodeId >= 0 && request.nodeId !== services.config.nodeId;
    const finalized = services.metadata.finalizedFeatures();
    const features =
      ctx.apiVersion < 3
        ? {}
        : {
            // Before v4 a feature whose minimum is 0 is left out, as Kafka does (older clients refuse it).
            supportedFeatures: SUPPORTED_FEATURES.filter((f) => ctx.apiVersion >= 4 || f.minVersion > 0).map((f) => ({
              name: f.name,
              minVersion: f.minVersion,
              maxVersion: f.maxVersion,
            })),
            finalizedFeaturesEpoch: finalized.epoch,
            finalizedFeatures: finalized.levels.map((f) => ({
              name: f.name,
              minVersionLevel: f.level,
              maxVersionLevel: f.level,
            })),
          };
    // A client that reached the wrong cluster or node is only told to bootstrap again, as Kafka does.
    if (wrongCluster || wrongNode) return createApiVersionsResponse({ errorCode: ErrorCode.REBOOTSTRAP_REQUIRED });
    return createApiVersionsResponse({ ...body, ...features, errorCode: ErrorCode.NONE });
  },
});
