import { ApiKey, createWriteTxnMarkersRequest } from "@tskafka/protocol";
import type { InterBrokerClients } from "../cluster/inter-broker.js";
import type { ClusterMetadata } from "../cluster/metadata.js";
import type { BrokerConfig } from "../config.js";
import { ErrorCode } from "../errors.js";
import type { Logger } from "../logger.js";
import type { MarkerResults, TopicPartitionRef, TxnMarker, TxnMarkerWriter } from "./marker.js";

/**
 * The marker writer of a cluster: each partition's marker goes to the partition's leader, through the
 * local writer when that is this broker, else as WriteTxnMarkers (v2) to the leader's inter-broker
 * listener (cluster/inter-broker.ts), as Kafka's TransactionMarkerChannelManager sends them. A leader
 * that cannot be reached is NOT_LEADER_OR_FOLLOWER, which the coordinator retries.
 */

export interface ClusterMarkerHost {
  readonly config: BrokerConfig;
  readonly log: Logger;
  readonly metadata: Pick<ClusterMetadata, "brokers" | "partitionStates">;
}

export class ClusterMarkerWriter implements TxnMarkerWriter {
  constructor(
    private readonly host: ClusterMarkerHost,
    private readonly local: TxnMarkerWriter,
    private readonly brokers: InterBrokerClients,
  ) {}

  async writeMarkers(marker: TxnMarker, partitions: readonly TopicPartitionRef[]): Promise<MarkerResults> {
    const self = this.host.config.nodeId;
    const byLeader = new Map<number, TopicPartitionRef[]>();
    for (const p of partitions) {
      const leader = this.host.metadata.partitionStates(p.topic)?.[p.partition]?.leader ?? self;
      byLeader.set(leader, [...(byLeader.get(leader) ?? []), p]);
    }
    const answers = await Promise.all(
      [...byLeader].map(([leader, refs]) =>
        leader === self ? this.local.writeMarkers(marker, refs) : this.remote(leader, marker, refs),
      ),
    );
    const flat = answers.flat();
    // In the order asked.
    return partitions.map(
      (p) =>
        flat.find((r) => r.topic === p.topic && r.partition === p.partition) ?? {
          ...p,
          errorCode: ErrorCode.UNKNOWN_SERVER_ERROR,
        },
    );
  }

  private async remote(leader: number, marker: TxnMarker, refs: TopicPartitionRef[]): Promise<MarkerResults> {
    const topics = new Map<string, number[]>();
    for (const r of refs) topics.set(r.topic, [...(topics.get(r.topic) ?? []), r.partition]);
    try {
      const res = await this.brokers.send(
        leader,
        ApiKey.WriteTxnMarkers,
        2,
        createWriteTxnMarkersRequest({
          markers: [
            {
              producerId: marker.producerId,
              producerEpoch: marker.producerEpoch,
              transactionResult: marker.committed,
              topics: [...topics].map(([name, partitionIndexes]) => ({ name, partitionIndexes })),
              coordinatorEpoch: marker.coordinatorEpoch,
              transactionVersion: marker.transactionVersion ?? 0,
            },
          ],
        }),
      );
      const answered = res.markers[0]?.topics ?? [];
      return refs.map((r) => ({
        ...r,
        errorCode:
          answered.find((t) => t.name === r.topic)?.partitions.find((p) => p.partitionIndex === r.partition)
            ?.errorCode ?? ErrorCode.UNKNOWN_SERVER_ERROR,
      }));
    } catch (e) {
      this.host.log.warn(`markers for broker ${leader}: ${(e as Error).message}`);
      return refs.map((r) => ({ ...r, errorCode: ErrorCode.NOT_LEADER_OR_FOLLOWER }));
    }
  }
}
