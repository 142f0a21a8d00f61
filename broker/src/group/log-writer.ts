import { ErrorCode } from "../errors.js";
import type { Logger } from "../logger.js";
import type { OffsetsTopic } from "./offsets-topic.js";
import type { CoordinatorRecord } from "./records.js";

/**
 * Write ordering to `__consumer_offsets`: one append chain per partition of the topic, so that the
 * records of a group (and of every group on the same partition) reach the log in the order they were
 * written, whatever each append waits for. A failed append is logged and answered with
 * UNKNOWN_SERVER_ERROR; it does not stop the appends queued behind it.
 */

/** What the writer uses: where a group's records go and how they are appended there. */
export type GroupLogWriterHost = Pick<OffsetsTopic, "partitionFor" | "append">;

export class GroupLogWriter {
  /** partition -> the last append queued on it (never rejects). */
  private readonly chains = new Map<number, Promise<number>>();

  constructor(
    private readonly topic: GroupLogWriterHost,
    private readonly log: Pick<Logger, "error">,
  ) {}

  /** Appends after every earlier write to the group's partition; resolves to an error code (NONE on success). */
  write(groupId: string, records: CoordinatorRecord[]): Promise<number> {
    if (records.length === 0) return Promise.resolve(ErrorCode.NONE);
    return this.run(this.topic.partitionFor(groupId), `group ${groupId}`, () => this.topic.append(groupId, records));
  }

  /**
   * Runs `append` (any append to `partition`: transactional records, a marker) after every earlier write
   * to the partition, in the same order; resolves to its error code, UNKNOWN_SERVER_ERROR if it threw.
   */
  run(partition: number, what: string, append: () => Promise<number>): Promise<number> {
    const previous = this.chains.get(partition) ?? Promise.resolve(ErrorCode.NONE);
    const next = previous.then(append).catch((e: unknown) => {
      this.log.error(`${what}: ${(e as Error).message}`);
      return ErrorCode.UNKNOWN_SERVER_ERROR;
    });
    this.chains.set(partition, next);
    void next.then(() => {
      if (this.chains.get(partition) === next) this.chains.delete(partition);
    });
    return next;
  }

  /** Partitions with writes still queued or in progress. */
  get busyPartitions(): number {
    return this.chains.size;
  }

  /** Waits for every queued write (before the logs close). */
  async flush(): Promise<void> {
    await Promise.all([...this.chains.values()]);
  }
}
