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
import { defineHandler } from "./handler.js";

/**
 * DescribeLogDirs v0-4: the one data directory with the size of each asked-for partition (all when
 * `topics` is null), and from v4 the volume's total and usable bytes.
 */
export const describeLogDirsHandler = defineHandler({
  apiKey: ApiKey.DescribeLogDirs,
  minVersion: 0,
  maxVersion: 5,
  async handle(request, ctx) {
    const broker = ctx.broker;
    const wanted: { topic: string; partitions: number[] }[] =
      request.topics ??
      broker.topics.list().map((t) => ({ topic: t.name, partitions: Array.from({ length: t.partitions }, (_, i) => i) }));
    const topics: DescribeLogDirsResponseDescribeLogDirsTopic[] = [];
    for (const w of wanted) {
      const partitions = [];
      for (const p of w.partitions) {
        const log = broker.logs.get(w.topic, p);
        if (log === undefined) continue;
        partitions.push(createDescribeLogDirsResponseDescribeLogDirsPartition({ partitionIndex: p, partitionSize: BigInt(log.size), offsetLag: 0n }));
      }
      if (partitions.length > 0) topics.push(createDescribeLogDirsResponseDescribeLogDirsTopic({ name: w.topic, partitions }));
    }
    const fs = await statfs(broker.config.dataDir, { bigint: true });
    return createDescribeLogDirsResponse({
      results: [
        createDescribeLogDirsResponseDescribeLogDirsResult({
          logDir: resolve(broker.config.dataDir),
          topics,
          totalBytes: fs.blocks * fs.bsize,
          usableBytes: fs.bavail * fs.bsize,
        }),
      ],
    });
  },
});
