// A post-mortem of one partition's replicas (the directories a failed fault test keeps, cluster-fixture.ts),
// read only: per replica its batches (offsets, leader epoch, producer id/epoch, sequences), its leader epochs
// and checkpointed high watermark, and the producer state its batches rebuild (last sequence per producer).
// The first offset where the replicas' batches differ is named.
//   npx tsx scripts/cluster/dump-partition.ts TOPIC-PARTITION DATA_DIR... [--from OFFSET] [--producer ID]
import { readFile, readdir } from "node:fs/promises";
import { basename, join } from "node:path";
import { readBatchHeader } from "../../broker/src/log/records.ts";
import { ProducerStateManager, lastSequence } from "../../broker/src/log/producer-state.ts";

interface Batch {
  readonly base: bigint;
  readonly last: bigint;
  readonly epoch: number;
  readonly producerId: bigint;
  readonly producerEpoch: number;
  readonly firstSeq: number;
  readonly lastSeq: number;
  readonly crc: number;
}

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

const positional = process.argv.slice(2).filter((a, i, all) => !a.startsWith("--") && !all[i - 1]?.startsWith("--"));
const [partitionName, ...dataDirs] = positional;
if (partitionName === undefined || dataDirs.length === 0) {
  console.error("usage: dump-partition.ts TOPIC-PARTITION DATA_DIR... [--from OFFSET] [--producer ID]");
  process.exit(2);
}
const from = BigInt(arg("from") ?? "0");
const producer = arg("producer");

/** The batches of a partition directory's segments, in order, and the producer state they rebuild. */
async function read(dir: string): Promise<{ batches: Batch[]; state: ProducerStateManager }> {
  const files = (await readdir(dir)).filter((f) => f.endsWith(".log")).sort();
  const batches: Batch[] = [];
  const state = new ProducerStateManager();
  for (const f of files) {
    const buf = await readFile(join(dir, f));
    for (let off = 0; off + 61 <= buf.length;) {
      const h = readBatchHeader(buf, off);
      const size = 12 + h.batchLength;
      if (h.batchLength <= 0 || off + size > buf.length) break; // a torn tail
      state.loadBatch(buf, off, Date.now());
      batches.push({
        base: h.baseOffset,
        last: h.baseOffset + BigInt(h.lastOffsetDelta),
        epoch: h.partitionLeaderEpoch,
        producerId: h.producerId,
        producerEpoch: h.producerEpoch,
        firstSeq: h.baseSequence,
        lastSeq: h.baseSequence < 0 ? -1 : lastSequence(h.baseSequence, h.lastOffsetDelta),
        crc: h.crc,
      });
      off += size;
    }
  }
  return { batches, state };
}

async function text(path: string): Promise<string> {
  return readFile(path, "utf8").catch(() => "(none)");
}

const replicas = [];
for (const data of dataDirs) {
  const dir = join(data, partitionName);
  const { batches, state } = await read(dir);
  replicas.push({ name: basename(data), batches });
  const epochs = (await text(join(dir, "leader-epoch-checkpoint"))).trim().split("\n").slice(2).join(", ");
  const hw = (await text(join(data, "replication-offset-checkpoint")))
    .split("\n")
    .find((l) => l.startsWith(`${partitionName.replace(/-(\d+)$/, " $1")} `));
  console.log(`== ${basename(data)}: ${batches.length} batches, log end ${(batches.at(-1)?.last ?? -1n) + 1n}`);
  console.log(`   leader epochs (epoch start): ${epochs}; high watermark checkpoint: ${hw ?? "(none)"}`);
  for (const p of state.activeProducers()) {
    if (producer === undefined || String(p.producerId) === producer)
      console.log(`   producer ${p.producerId} epoch ${p.producerEpoch}: last sequence ${p.lastSequence}`);
  }
  for (const b of batches) {
    if (b.last < from || (producer !== undefined && String(b.producerId) !== producer)) continue;
    console.log(
      `   ${b.base}..${b.last} leader epoch ${b.epoch} producer ${b.producerId}/${b.producerEpoch} seq ${b.firstSeq}..${b.lastSeq}`,
    );
  }
}

// The first batch where the replicas part: its offset and what each has there.
const longest = Math.max(...replicas.map((r) => r.batches.length));
for (let i = 0; i < longest; i++) {
  const at = replicas.map((r) => r.batches[i]);
  const same = at.every((b) => b !== undefined && b.base === at[0]!.base && b.crc === at[0]!.crc);
  if (same) continue;
  console.log(`== replicas differ from batch ${i}:`);
  for (const [j, r] of replicas.entries()) {
    const b = at[j];
    console.log(
      `   ${r.name}: ${b === undefined ? "(ends)" : `${b.base}..${b.last} epoch ${b.epoch} seq ${b.firstSeq}`}`,
    );
  }
  break;
}
