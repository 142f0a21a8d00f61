import {
  ApiKey,
  createElectLeadersResponse,
  createElectLeadersResponsePartitionResult,
  createElectLeadersResponseReplicaElectionResult,
} from "@tskafka/protocol";
import { ErrorCode } from "../errors.js";
import { AclOperation } from "../security/acl.js";
import { AUTHORIZATION_MESSAGE, clusterAllowed } from "./authz.js";
import { defineHandler } from "./handler.js";

/**
 * ElectLeaders v0-2 (kafka-leader-election.sh): preferred (v0, and type 0) or unclean (type 1) leader
 * elections of the named partitions, or of all (null: only those that needed one are answered), made as
 * Kafka's controller makes them (cluster/controller.ts). As Kafka authorizes: ALTER on the cluster, else
 * CLUSTER_AUTHORIZATION_FAILED at the top and for every partition named.
 */
export const electLeadersHandler = defineHandler({
  apiKey: ApiKey.ElectLeaders,
  minVersion: 0,
  maxVersion: 2,
  async handle(request, ctx) {
    const targets = request.topicPartitions?.map((t) => ({ topic: t.topic, partitions: t.partitions })) ?? null;
    if (!clusterAllowed(ctx, AclOperation.ALTER)) {
      const errorCode = ErrorCode.CLUSTER_AUTHORIZATION_FAILED;
      const errorMessage = AUTHORIZATION_MESSAGE[errorCode] ?? null;
      return createElectLeadersResponse({
        errorCode,
        replicaElectionResults: (targets ?? []).map((t) =>
          createElectLeadersResponseReplicaElectionResult({
            topic: t.topic,
            partitionResult: t.partitions.map((partitionId) =>
              createElectLeadersResponsePartitionResult({ partitionId, errorCode, errorMessage }),
            ),
          }),
        ),
      });
    }
    const type = ctx.apiVersion >= 1 ? request.electionType : 0;
    const answers = await ctx.services.controller.electLeaders(type, targets);
    return createElectLeadersResponse({
      replicaElectionResults: [...answers].map(([topic, results]) =>
        createElectLeadersResponseReplicaElectionResult({
          topic,
          partitionResult: results.map((r) =>
            createElectLeadersResponsePartitionResult({
              partitionId: r.partition,
              errorCode: r.errorCode,
              errorMessage: r.errorMessage,
            }),
          ),
        }),
      ),
    });
  },
});
