import { statfs } from "node:fs/promises";
import { resolve } from "node:path";
import {
  ApiKey,
  createDescribeLogDirsResponse,
  createDescribeLogDirsResponseDescribeLogDirsPartition,
  createDescribeLogDirsResponseDescribeLogDirsResult,
  createDescribeLogDirsResponseDescribeLogDirsTopic,
  type DescribeLogDirsResponseDescribeLogDirsTopic,
} from "@tskafka/protocol";
import { ErrorCode } from "../errors.js";
import { AclOperation } from "../security/acl.js";
import { clusterAllowed } from "./authz.js";
import { defineHandler } from "./handler.js";

/**
 * DescribeLogDirs v0-4: the one data directory with the size of each asked-for partition (all when
 * `topics` is null), and from v4 the volume's total and usable bytes. While a write to the directory
 * has failed and not recovered, its result carries KAFKA_STORAGE_ERROR (Kafka's offline directory).
 * Without DESCRIBE on the cluster the answer is CLUSTER_AUTHORIZATION_FAILED (v3+) with no directories.
 */
export const describeLogDirsHandler = defineHandler({
  apiKey: ApiKey.DescribeLogDirs,
  minVersion: 0,
  maxVersion: 5,
  async handle(request, ctx) {
    if (!clusterAllowed(ctx, AclOperation.DESCRIBE))
      return createDescribeLogDirsResponse({ errorCode: ErrorCode.CLUSTER_AUTHORIZATION_FAILED, results: [] });
    const services = ctx.services;
    const wanted: { topic: string; partitions: number[] }[] =
      request.topics ??
      services.metadata
        .topics()
        .map((t) => ({ topic: t.name, partitions: Array.from({ length: t.partitions }, (_, i) => i) }));
    const topics: DescribeLogDirsResponseDescribeLogDirsTopic[] = [];
    for (const w of wanted) {
      const partitions = [];
      for (const p of w.partitions) {
        const log = services.partitions.partitionLog(w.topic, p);
        if (typeof log === "number") continue;
        partitions.push(
          createDescribeLogDirsResponseDescribeLogDirsPartition({
            partitionIndex: p,
            partitionSize: BigInt(log.size),
            offsetLag: 0n,
          }),
        );
      }
      if (partitions.length > 0)
        topics.push(createDescribeLogDirsResponseDescribeLogDirsTopic({ name: w.topic, partitions }));
    }
    const fs = await statfs(services.config.dataDir, { bigint: true });
    return createDescribeLogDirsResponse({
      results: [
        createDescribeLogDirsResponseDescribeLogDirsResult({
          errorCode: services.partitions.storageError === null ? ErrorCode.NONE : ErrorCode.KAFKA_STORAGE_ERROR,
          logDir: resolve(services.config.dataDir),
          topics,
          totalBytes: fs.blocks * fs.bsize,
          usableBytes: fs.bavail * fs.bsize,
        }),
      ],
    });
  },
});
