import { statfs } from "node:fs/promises";
import {
  ApiKey,
  createDescribeLogDirsResponse,
  createDescribeLogDirsResponseDescribeLogDirsPartition,
  createDescribeLogDirsResponseDescribeLogDirsResult,
  createDescribeLogDirsResponseDescribeLogDirsTopic,
  type DescribeLogDirsResponseDescribeLogDirsResult,
  type DescribeLogDirsResponseDescribeLogDirsTopic,
} from "@tskafka/protocol";
import type { LogDirReport, ReplicaInDir } from "../cluster/partition-logs.js";
import { ErrorCode } from "../errors.js";
import { AclOperation } from "../security/acl.js";
import { clusterAllowed } from "./authz.js";
import { defineHandler } from "./handler.js";

type Wanted = ReadonlyMap<string, ReadonlySet<number>> | null;

/** The replicas of one directory that were asked for, by topic (all of them when `wanted` is null). */
function topicsOf(replicas: readonly ReplicaInDir[], wanted: Wanted): DescribeLogDirsResponseDescribeLogDirsTopic[] {
  const byTopic = new Map<string, DescribeLogDirsResponseDescribeLogDirsTopic>();
  for (const r of replicas) {
    if (wanted !== null && wanted.get(r.topic)?.has(r.partition) !== true) continue;
    let topic = byTopic.get(r.topic);
    if (topic === undefined) {
      topic = createDescribeLogDirsResponseDescribeLogDirsTopic({ name: r.topic, partitions: [] });
      byTopic.set(r.topic, topic);
    }
    topic.partitions.push(
      createDescribeLogDirsResponseDescribeLogDirsPartition({
        partitionIndex: r.partition,
        partitionSize: BigInt(r.size),
        offsetLag: r.offsetLag,
        isFutureKey: r.isFuture,
      }),
    );
  }
  return [...byTopic.values()];
}

/** One directory's result: as Kafka, an offline one carries only its path and KAFKA_STORAGE_ERROR. */
async function resultOf(dir: LogDirReport, wanted: Wanted): Promise<DescribeLogDirsResponseDescribeLogDirsResult> {
  if (dir.error !== null) {
    return createDescribeLogDirsResponseDescribeLogDirsResult({
      errorCode: ErrorCode.KAFKA_STORAGE_ERROR,
      logDir: dir.dir,
    });
  }
  const fs = await statfs(dir.dir, { bigint: true });
  return createDescribeLogDirsResponseDescribeLogDirsResult({
    errorCode: ErrorCode.NONE,
    logDir: dir.dir,
    topics: topicsOf(dir.replicas, wanted),
    totalBytes: fs.blocks * fs.bsize,
    usableBytes: fs.bavail * fs.bsize,
  });
}

/**
 * DescribeLogDirs v0-5: every log directory (log.dirs) with the replicas in it of the asked-for
 * partitions (all when `topics` is null), their sizes, and from v4 the volume's total and usable bytes.
 * A partition moving to another directory (AlterReplicaLogDirs) is listed there too, as a future replica
 * (isFutureKey) with the size of its copy and how many offsets it is behind. A directory with a failed
 * write not yet recovered from is offline: KAFKA_STORAGE_ERROR and nothing else, as Kafka answers.
 * Without DESCRIBE on the cluster the answer is CLUSTER_AUTHORIZATION_FAILED (v3+) with no directories.
 */
export const describeLogDirsHandler = defineHandler({
  apiKey: ApiKey.DescribeLogDirs,
  minVersion: 0,
  maxVersion: 5,
  async handle(request, ctx) {
    if (!clusterAllowed(ctx, AclOperation.DESCRIBE))
      return createDescribeLogDirsResponse({ errorCode: ErrorCode.CLUSTER_AUTHORIZATION_FAILED, results: [] });
    const wanted: Wanted =
      request.topics === null ? null : new Map(request.topics.map((t) => [t.topic, new Set(t.partitions)]));
    const dirs = ctx.services.partitions.logDirs();
    return createDescribeLogDirsResponse({ results: await Promise.all(dirs.map((d) => resultOf(d, wanted))) });
  },
});
