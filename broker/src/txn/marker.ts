/**
 * A transaction marker (KIP-98): the control record that ends a producer's transaction on one
 * partition. The transaction coordinator decides commit or abort; the marker writer appends the
 * markers to the partitions of the transaction. On one node the writer appends to local logs; in a
 * cluster it routes each marker to the partition's leader with WriteTxnMarkers, so the coordinator
 * only ever sees this interface.
 */
export interface TxnMarker {
  readonly producerId: bigint;
  readonly producerEpoch: number;
  /** true: COMMIT (control type 1); false: ABORT (control type 0). */
  readonly committed: boolean;
  /** The epoch of the coordinator (its `__transaction_state` partition) that decided the outcome. */
  readonly coordinatorEpoch: number;
  /**
   * The transaction version the transaction ran under: from 2 (KIP-890) every end bumps the epoch, so a
   * partition refuses a marker whose epoch is not newer than its producer's (unless it repeats one).
   */
  readonly transactionVersion?: number;
}

export interface TopicPartitionRef {
  readonly topic: string;
  readonly partition: number;
}

/** The error code of each partition's marker write (NONE on success), in the order asked. */
export type MarkerResults = { readonly topic: string; readonly partition: number; readonly errorCode: number }[];

export interface TxnMarkerWriter {
  /** Appends `marker` to each partition; resolves once every marker is written or has failed. */
  writeMarkers(marker: TxnMarker, partitions: readonly TopicPartitionRef[]): Promise<MarkerResults>;
}
