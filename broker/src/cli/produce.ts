import { createInterface } from "node:readline";
import type { SimpleRecord } from "@tskafka/protocol";
import type { KafkaAdmin } from "./kafka-admin.js";
import { partitionForKey } from "./partitioner.js";
import { parseAssignments } from "./topics.js";

/** `tskafka produce TOPIC`: one record per stdin line (the topic auto-created where the broker allows it). */
export interface ProduceArgs {
  topic: string;
  key?: string | undefined;
  header: string[];
  partition?: number | undefined;
  json: boolean;
}

/** Lines sent per Produce request. */
const BATCH = 500;

export async function runProduce(
  admin: KafkaAdmin,
  a: ProduceArgs,
  input: NodeJS.ReadableStream,
  out: (s: string) => void,
): Promise<void> {
  const { partitions } = await admin.topicToProduce(a.topic);
  const headers = Object.entries(parseAssignments(a.header, "--header")).map(([key, value]) => ({ key, value }));
  const pending = new Map<number, SimpleRecord[]>();
  let sent = 0;
  let next = 0;
  const flush = async (): Promise<void> => {
    for (const [p, records] of pending) {
      await admin.produce(a.topic, p, records);
      sent += records.length;
    }
    pending.clear();
  };
  let lineNo = 0;
  for await (const line of createInterface({ input, crlfDelay: Infinity })) {
    lineNo++;
    if (line === "") continue;
    if (a.json) checkJson(line, lineNo);
    const partition =
      a.partition ??
      (a.key !== undefined
        ? partitionForKey(Buffer.from(a.key), partitions.length)
        : partitions[next++ % partitions.length]!.partition);
    let list = pending.get(partition);
    if (list === undefined) pending.set(partition, (list = []));
    list.push({ key: a.key ?? null, value: line, headers });
    if ([...pending.values()].reduce((n, l) => n + l.length, 0) >= BATCH) await flush();
  }
  await flush();
  out(`produced ${sent} records to ${a.topic}\n`);
}

function checkJson(line: string, n: number): void {
  try {
    JSON.parse(line);
  } catch (e) {
    throw new Error(`line ${n} is not JSON: ${(e as Error).message}`);
  }
}
