/**
 * Topics created, written and deleted over and over while the broker is killed and restarted: at the end
 * every topic whose creation was acknowledged (and deletion not asked) exists, and every topic whose
 * deletion was acknowledged is gone. An operation that failed leaves its topic uncertain, not checked.
 */
import { between, kafka, run, sleep, violation } from "./common.ts";

const created = new Set<string>();
const deleted = new Set<string>();
let cycles = 0;

export async function topicChurn(): Promise<void> {
  const k = kafka("soak-churn");
  let n = 0;
  while (!run.stopping) {
    const topic = `soak-churn-${n++}`;
    const admin = k.admin();
    const producer = k.producer();
    try {
      await admin.connect();
      await admin.createTopics({ topics: [{ topic, numPartitions: 2 }], waitForLeaders: true });
      created.add(topic);
      await producer.connect();
      await producer.send({ topic, acks: -1, messages: [{ value: "a" }, { value: "b" }] });
      await sleep(between(200, 1500));
      await admin.deleteTopics({ topics: [topic] });
      created.delete(topic);
      deleted.add(topic);
      cycles++;
    } catch {
      created.delete(topic);
      await sleep(500);
    } finally {
      await producer.disconnect().catch(() => {});
      await admin.disconnect().catch(() => {});
    }
    await sleep(between(300, 1500));
  }
}

export async function checkTopics(): Promise<string> {
  const admin = kafka("soak-churn-check").admin();
  await admin.connect();
  const exist = new Set(await admin.listTopics());
  await admin.disconnect();
  for (const t of created) if (!exist.has(t)) violation(`topic ${t} was created (acknowledged) but is missing`);
  for (const t of deleted) if (exist.has(t)) violation(`topic ${t} was deleted (acknowledged) but is still there`);
  return `${cycles} topics created, written and deleted`;
}
