import { mkdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { writeFileAtomic } from "../atomic-file.js";
import type { ClusterMetadata, ProducerIdBlock } from "./metadata.js";

const FILE = "__tskafka_producer_ids.json";
/** Ids are reserved in blocks so that the cluster state is written once per block, not once per producer. */
const BLOCK = 1000n;

/** The file of the next producer id never reserved: `{"next": "<decimal>"}`. */
export class ProducerIdsFile {
  constructor(private readonly dir: string) {}

  async load(): Promise<bigint> {
    try {
      return BigInt((JSON.parse(await readFile(join(this.dir, FILE), "utf8")) as { next: string }).next);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== "ENOENT") throw e;
      return 0n;
    }
  }

  async save(next: bigint): Promise<void> {
    await mkdir(this.dir, { recursive: true });
    await writeFileAtomic(join(this.dir, FILE), JSON.stringify({ next: next.toString() }));
  }
}

/**
 * Allocates idempotent producer ids that are never reused across restarts: a block is reserved in the
 * cluster metadata before any id in it is handed out.
 */
export class ProducerIds {
  private block: ProducerIdBlock = { firstId: 0n, size: 0n };
  private next = 0n;
  /** One reservation at a time: concurrent producers wait for the same block. */
  private reserving: Promise<void> | undefined;

  constructor(private readonly metadata: ClusterMetadata) {}

  async allocate(): Promise<bigint> {
    while (this.next >= this.block.firstId + this.block.size) {
      this.reserving ??= this.reserve();
      await this.reserving;
    }
    return this.next++;
  }

  private async reserve(): Promise<void> {
    try {
      this.block = await this.metadata.reserveProducerIds(BLOCK);
      this.next = this.block.firstId;
    } finally {
      this.reserving = undefined;
    }
  }

  /** On a clean shutdown only the ids really used are kept reserved. */
  async save(): Promise<void> {
    if (this.block.size > 0n) await this.metadata.releaseProducerIds(this.block, this.next);
  }
}
