import type { ClusterMetadata } from "../cluster/metadata.js";
import type { GroupCoordinator } from "../group/coordinator.js";
import type { LogManager } from "../log/log-manager.js";
import type { MetricsSource, PartitionView } from "./collected.js";

/** The broker's state as the metrics read it: the topics' logs on this node and the groups' offsets. */
export function brokerMetricsSource(
  metadata: ClusterMetadata,
  logs: LogManager,
  groups: () => GroupCoordinator,
): MetricsSource {
  return {
    *partitions(): Generator<PartitionView> {
      for (const t of metadata.topics()) {
        for (let partition = 0; partition < t.partitions; partition++) {
          const log = logs.get(t.name, partition);
          if (log === undefined) continue;
          yield {
            topic: t.name,
            partition,
            size: log.size,
            logStartOffset: log.logStartOffset,
            logEndOffset: log.logEndOffset,
            highWatermark: log.highWatermark,
          };
        }
      }
    },
    committedOffsets: () => groups().committedOffsets(),
    topicName: (topicId) => metadata.topicById(topicId)?.name,
  };
}
