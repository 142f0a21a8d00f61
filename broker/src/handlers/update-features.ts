import { ApiKey, createUpdateFeaturesResponse } from "@tskafka/protocol";
import { featureLevel, invalidFeatureUpdate, UpgradeType } from "../cluster/features.js";
import { ErrorCode } from "../errors.js";
import { AclOperation } from "../security/acl.js";
import { AUTHORIZATION_MESSAGE, clusterAllowed } from "./authz.js";
import { defineHandler } from "./handler.js";

/**
 * UpdateFeatures v0-2 (`kafka-features.sh upgrade|downgrade`): a level within the supported range is
 * finalized (kept in the cluster metadata; a downgrade needs a downgrade upgrade type, level 0 takes the
 * feature out); anything else is INVALID_UPDATE_VERSION. The request is all or nothing, as at Kafka's
 * controller: one bad update fails it; `validateOnly` checks without changing. v0-1 also answer per
 * feature; v2 only at the top. ALTER on the cluster is needed, else the request is
 * CLUSTER_AUTHORIZATION_FAILED at the top.
 */
export const updateFeaturesHandler = defineHandler({
  apiKey: ApiKey.UpdateFeatures,
  minVersion: 0,
  maxVersion: 2,
  async handle(request, ctx) {
    if (!clusterAllowed(ctx, AclOperation.ALTER)) {
      const errorCode = ErrorCode.CLUSTER_AUTHORIZATION_FAILED;
      return createUpdateFeaturesResponse({ errorCode, errorMessage: AUTHORIZATION_MESSAGE[errorCode]!, results: [] });
    }
    const metadata = ctx.services.metadata;
    const finalized = metadata.finalizedFeatures();
    const reasons = request.featureUpdates.map((u) => {
      const type =
        ctx.apiVersion === 0 ? (u.allowDowngrade ? UpgradeType.SAFE_DOWNGRADE : UpgradeType.UPGRADE) : u.upgradeType;
      return invalidFeatureUpdate(finalized, u.feature, u.maxVersionLevel, type);
    });
    const firstError = reasons.find((r) => r !== undefined);
    const errorCode = firstError === undefined ? ErrorCode.NONE : ErrorCode.INVALID_UPDATE_VERSION;
    const changes = request.featureUpdates
      .filter((u) => featureLevel(finalized, u.feature) !== u.maxVersionLevel)
      .map((u) => ({ name: u.feature, level: u.maxVersionLevel }));
    if (errorCode === ErrorCode.NONE && !request.validateOnly && changes.length > 0) {
      await metadata.updateFinalizedFeatures(changes);
      ctx.services.log.info(`finalized features: ${changes.map((c) => `${c.name}=${c.level}`).join(", ")}`);
    }
    const results =
      ctx.apiVersion >= 2
        ? []
        : request.featureUpdates.map((u, i) => ({
            feature: u.feature,
            errorCode: reasons[i] === undefined ? ErrorCode.NONE : ErrorCode.INVALID_UPDATE_VERSION,
            errorMessage: reasons[i] ?? null,
          }));
    return createUpdateFeaturesResponse({ errorCode, errorMessage: firstError ?? null, results });
  },
});
