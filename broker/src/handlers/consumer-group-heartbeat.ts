import { ApiKey, createConsumerGroupHeartbeatResponse } from "@tskafka/protocol";
import { fromAssignment } from "../group/consumer-group.js";
import { clientHost } from "../group/client-host.js";
import { defineHandler } from "./handler.js";

/** ConsumerGroupHeartbeat v0 (KIP-848): join, stay, reconcile towards the target assignment, leave. */
export const consumerGroupHeartbeatHandler = defineHandler({
  apiKey: ApiKey.ConsumerGroupHeartbeat,
  minVersion: 0,
  maxVersion: 0,
  handle(request, ctx) {
    const r = ctx.broker.groups.consumerHeartbeat(request, ctx.clientId ?? "", clientHost(ctx.remote));
    return createConsumerGroupHeartbeatResponse({
      errorCode: r.errorCode,
      errorMessage: r.errorMessage,
      memberId: r.memberId,
      memberEpoch: r.memberEpoch,
      heartbeatIntervalMs: r.heartbeatIntervalMs,
      assignment: r.assignment === null ? null : { topicPartitions: fromAssignment(r.assignment) },
    });
  },
});
