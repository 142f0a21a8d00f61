import {
  ApiKey,
  createAlterReplicaLogDirsResponse,
  createAlterReplicaLogDirsResponseAlterReplicaLogDirPartitionResult,
  createAlterReplicaLogDirsResponseAlterReplicaLogDirTopicResult,
  type AlterReplicaLogDirsResponseAlterReplicaLogDirPartitionResult,
} from "@tskafka/protocol";
import { ErrorCode } from "../errors.js";
import { AclOperation } from "../security/acl.js";
import { clusterAllowed } from "./authz.js";
import { defineHandler } from "./handler.js";

/**
 * AlterReplicaLogDirs v0-2 (v0, which Kafka 4.0 dropped, differs from v1 only in throttling): moves each named partition to the named log directory,
 * an absolute path of log.dirs. The answer comes at once and the copy goes on in the background;
 * DescribeLogDirs shows it as a future replica until the partition is swapped over. Per partition:
 * LOG_DIR_NOT_FOUND, KAFKA_STORAGE_ERROR (a directory offline), UNKNOWN_TOPIC_OR_PARTITION, as Kafka;
 * without ALTER on the cluster, CLUSTER_AUTHORIZATION_FAILED for every partition.
 */
export const alterReplicaLogDirsHandler = defineHandler({
  apiKey: ApiKey.AlterReplicaLogDirs,
  minVersion: 0,
  maxVersion: 2,
  async handle(request, ctx) {
    const authorized = clusterAllowed(ctx, AclOperation.ALTER);
    const byTopic = new Map<string, AlterReplicaLogDirsResponseAlterReplicaLogDirPartitionResult[]>();
    for (const dir of request.dirs) {
      for (const topic of dir.topics) {
        let results = byTopic.get(topic.name);
        if (results === undefined) byTopic.set(topic.name, (results = []));
        for (const partition of topic.partitions) {
          const errorCode = authorized
            ? await ctx.services.partitions.alterLogDir(topic.name, partition, dir.path)
            : ErrorCode.CLUSTER_AUTHORIZATION_FAILED;
          results.push(
            createAlterReplicaLogDirsResponseAlterReplicaLogDirPartitionResult({
              partitionIndex: partition,
              errorCode,
            }),
          );
        }
      }
    }
    return createAlterReplicaLogDirsResponse({
      results: [...byTopic].map(([topicName, partitions]) =>
        createAlterReplicaLogDirsResponseAlterReplicaLogDirTopicResult({ topicName, partitions }),
      ),
    });
  },
});
