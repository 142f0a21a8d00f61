import { mkdir, readFile } from "node:fs/promises";
import { writeFileAtomic } from "../atomic-file.js";
import { join } from "node:path";

const FILE = "__tskafka_producer_ids.json";
/** Ids are reserved in blocks so that the file is written once per block, not once per producer. */
const BLOCK = 1000n;

/**
 * Allocates idempotent producer ids that are never reused across restarts: the end of the reserved
 * block is persisted before any id in it is handed out.
 */
export class ProducerIds {
  private next = 0n;
  private reservedUntil = 0n;

  constructor(private readonly dir: string) {}

  async load(): Promise<void> {
    try {
      const state = JSON.parse(await readFile(join(this.dir, FILE), "utf8")) as { next: string };
      this.next = BigInt(state.next);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== "ENOENT") throw e;
    }
    this.reservedUntil = this.next;
  }

  async allocate(): Promise<bigint> {
    if (this.next >= this.reservedUntil) {
      this.reservedUntil = this.next + BLOCK;
      await this.persist(this.reservedUntil);
    }
    return this.next++;
  }

  /** On a clean shutdown only the ids really used are kept reserved. */
  async save(): Promise<void> {
    await this.persist(this.next);
  }

  private async persist(next: bigint): Promise<void> {
    await mkdir(this.dir, { recursive: true });
    await writeFileAtomic(join(this.dir, FILE), JSON.stringify({ next: next.toString() }));
  }
}
