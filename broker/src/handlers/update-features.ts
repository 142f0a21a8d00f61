import { ApiKey, createUpdateFeaturesResponse } from "@tskafka/protocol";
import { invalidFeatureUpdate, UpgradeType } from "../cluster/features.js";
import { ErrorCode } from "../errors.js";
import { defineHandler } from "./handler.js";

/**
 * UpdateFeatures v0-2 (`kafka-features.sh upgrade|downgrade`). Every feature we report is finalized at
 * its only supported level, so a valid update changes nothing; anything else is INVALID_UPDATE_VERSION.
 * The request is all or nothing, as at Kafka's controller: one bad update fails it. v0-1 also answer per
 * feature; v2 only at the top.
 */
export const updateFeaturesHandler = defineHandler({
  apiKey: ApiKey.UpdateFeatures,
  minVersion: 0,
  maxVersion: 2,
  handle(request, ctx) {
    const finalized = ctx.services.metadata.finalizedFeatures();
    const reasons = request.featureUpdates.map((u) => {
      const type =
        ctx.apiVersion === 0 ? (u.allowDowngrade ? UpgradeType.SAFE_DOWNGRADE : UpgradeType.UPGRADE) : u.upgradeType;
      return invalidFeatureUpdate(finalized, u.feature, u.maxVersionLevel, type);
    });
    const firstError = reasons.find((r) => r !== undefined);
    const errorCode = firstError === undefined ? ErrorCode.NONE : ErrorCode.INVALID_UPDATE_VERSION;
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
