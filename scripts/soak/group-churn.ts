/**
 * A consumer group whose members join and leave at random while the broker restarts, committing as they
 * go; a sampler reads the group's committed offsets every second or two: an offset the broker once
 * answered must never go back (a commit it acknowledged is durable), nor pass the log end.
 */
import type { Consumer } from "kafkajs";
import { between, kafka, random, run, sleep, violation } from "./common.ts";

const GROUP = "soak-churn-group";
let joins = 0;
let samples = 0;

async function startMember(topic: string): Promise<Consumer> {
  const consumer = kafka(`soak-member-${joins}`).consumer({
    groupId: GROUP,
    maxWaitTimeInMs: 500,
    sessionTimeout: 10000,
    heartbeatInterval: 1000,
    retry: { retries: 1000, initialRetryTime: 300, maxRetryTime: 2000 },
  });
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  await consumer.run({ autoCommitInterval: 500, eachMessage: async () => {} });
  joins++;
  return consumer;
}

export async function groupChurn(topic: string): Promise<void> {
  const members: Consumer[] = [];
  const sampling = sampleOffsets(topic);
  while (!run.stopping) {
    await sleep(between(1500, 5000));
    try {
      if (members.length < 3 && (members.length === 0 || random() < 0.55)) members.push(await startMember(topic));
      else if (members.length > 0) await members.splice(between(0, members.length - 1), 1)[0]!.disconnect();
    } catch {
      await sleep(500);
    }
  }
  await Promise.all(members.map((m) => m.disconnect().catch(() => {})));
  await sampling;
}

async function sampleOffsets(topic: string): Promise<void> {
  const highest = new Map<number, number>();
  const admin = kafka("soak-offsets").admin();
  let connected = false;
  while (!run.stopping) {
    await sleep(between(1000, 2000));
    try {
      if (!connected) await admin.connect();
      connected = true;
      const [committed] = await admin.fetchOffsets({ groupId: GROUP, topics: [topic] });
      const ends = new Map((await admin.fetchTopicOffsets(topic)).map((p) => [p.partition, Number(p.high)]));
      for (const { partition, offset } of committed?.partitions ?? []) {
        const at = Number(offset);
        if (at < 0) continue;
        const before = highest.get(partition) ?? -1;
        if (at < before)
          violation(`group ${GROUP}: committed offset of ${topic}-${partition} went back ${before} -> ${at}`);
        if (at > (ends.get(partition) ?? Infinity))
          violation(`group ${GROUP}: committed offset ${at} of ${topic}-${partition} is past the log end`);
        highest.set(partition, Math.max(before, at));
      }
      samples++;
    } catch {
      await admin.disconnect().catch(() => {});
      connected = false;
    }
  }
  await admin.disconnect().catch(() => {});
}

export const groupSummary = (): string => `${joins} group members joined, ${samples} offset samples`;
