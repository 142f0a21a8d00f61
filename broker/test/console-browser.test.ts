import assert from "node:assert/strict";
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { after, before, test } from "node:test";
import puppeteer, { type Browser, type Page } from "puppeteer-core";
import { haveCommand, REPO_ROOT, skipUnless, startBroker, waitFor, type BrokerProcess } from "./harness.js";

/**
 * The web console in a real browser (Debian's headless Chromium, driven by puppeteer-core): a topic
 * created in the console, messages produced by kcat (gzip batches) shown in the message browser, and a
 * kcat consumer group whose lag the console shows going to zero, then back up after a reset made in the
 * console, then to zero again; the topic's throughput sparkline rising once kcat produced. Screenshots
 * land in .cache/artifacts/.
 */

const CHROMIUM = "/usr/bin/chromium";
const skip = skipUnless(haveCommand(CHROMIUM) && haveCommand("kcat", ["-V"]), "chromium and kcat");
const ARTIFACTS = join(REPO_ROOT, ".cache", "artifacts");
const TOPIC = "browser-orders";
const GROUP = "browser-group";

let broker: BrokerProcess;
let url: string;
let browser: Browser;
let page: Page;

before(async () => {
  if (skip !== undefined) return;
  broker = await startBroker({ args: ["--http-port", "0"] });
  await waitFor("the HTTP listener's URL", () => /HTTP listener on (http:\/\/\S+):/.test(broker.output()), 10_000);
  url = /HTTP listener on (http:\/\/\S+):/.exec(broker.output())![1]!;
  browser = await puppeteer.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"],
    timeout: 20_000,
  });
  page = await browser.newPage();
  await page.setViewport({ width: 1280, height: 800 });
  page.on("dialog", (d) => void d.accept());
  mkdirSync(ARTIFACTS, { recursive: true });
});

after(async () => {
  await browser?.close();
  await broker?.stop();
  await broker?.cleanup();
});

async function text(): Promise<string> {
  return page.$eval("main", (m) => (m as unknown as { innerText: string }).innerText);
}

/** The heights of a sparkline's points (0 at the bottom), from its SVG polyline. */
async function sparkHeights(selector: string): Promise<number[]> {
  const points = await page.$eval(selector, (p) => p.getAttribute("points") ?? "");
  const height = await page.$eval(selector, (p) => Number(p.closest("svg")!.getAttribute("height")));
  return points
    .trim()
    .split(/\s+/)
    .map((xy: string) => height - Number(xy.split(",")[1]));
}

/** The lag cells of the group page, after a fresh load. */
async function groupLags(): Promise<number[]> {
  await page.goto(`${url}/groups/${GROUP}`);
  return page.$$eval("td [data-lag]", (cells) => cells.map((c) => Number(c.getAttribute("data-lag"))));
}

async function waitForLags(what: string, ok: (lags: number[]) => boolean): Promise<number[]> {
  const deadline = Date.now() + 20_000;
  for (;;) {
    const lags = await groupLags();
    if (ok(lags)) return lags;
    if (Date.now() > deadline) assert.fail(`${what}: lags ${JSON.stringify(lags)}\n${await text()}`);
    await new Promise((r) => setTimeout(r, 300));
  }
}

function kcatMember(): ChildProcess {
  return spawn(
    "kcat",
    [
      "-b",
      broker.bootstrap,
      "-G",
      GROUP,
      TOPIC,
      "-X",
      "auto.offset.reset=earliest",
      "-X",
      "auto.commit.interval.ms=200",
      "-q",
    ],
    { stdio: "ignore" },
  );
}

async function stop(p: ChildProcess): Promise<void> {
  if (p.exitCode === null) {
    const exited = new Promise((r) => p.once("exit", r));
    p.kill("SIGTERM");
    await exited;
  }
}

test("create a topic, browse kcat's messages, watch a group's lag reach zero", { skip, timeout: 60_000 }, async () => {
  await page.goto(`${url}/topics`);
  await page.type("#create-topic input[name=name]", TOPIC);
  await page.$eval("#create-topic input[name=partitions]", (e) => ((e as unknown as { value: string }).value = "2"));
  await Promise.all([page.waitForNavigation(), page.click("#create-topic button")]);
  assert.match(await page.title(), new RegExp(`Topic ${TOPIC}`));
  assert.match(await text(), /Created topic browser-orders/);

  // Keyed, with a header, gzip batches: the console decodes them. One record carries markup to escape.
  // Each value is padded so that gzip always shrinks it: librdkafka sends a batch uncompressed when
  // compression would not (three short records, batched one way or another, sometimes did not).
  const pad = "-".repeat(300);
  const lines = [
    `{"order":1,"item":"tea","pad":"${pad}"}`,
    `{"order":2,"item":"<b>cake</b>","pad":"${pad}"}`,
    `plain text line ${pad}`,
  ];
  const kcat = spawnSync(
    "kcat",
    ["-P", "-b", broker.bootstrap, "-t", TOPIC, "-p", "0", "-k", "cust-7", "-H", "source=kcat", "-z", "gzip"],
    { input: lines.join("\n") + "\n", timeout: 15_000 },
  );
  assert.equal(kcat.status, 0, kcat.stderr.toString());

  // The topic was just produced to: its sparkline (bytes in per second, drawn by the broker) rises from
  // the zeros before. The topic page draws the same, larger.
  await page.goto(`${url}/topics`);
  const listed = await sparkHeights(`tr:has(a[href="/topics/${TOPIC}"]) svg.spark polyline.spark-in`);
  assert.ok(listed.length > 10, `a sparkline with its points: ${JSON.stringify(listed)}`);
  assert.ok(new Set(listed).size > 1, `not flat: ${JSON.stringify(listed)}`);
  // The rise is at the newest end: in the running interval, or the one just closed if a 5 s sample fell between.
  assert.ok(Math.max(...listed.slice(-2)) > listed[0]!, `it rises at the newest end: ${JSON.stringify(listed)}`);
  await page.screenshot({ path: join(ARTIFACTS, "console-topics.png"), fullPage: true });
  await page.goto(`${url}/topics/${TOPIC}`);
  assert.ok(new Set(await sparkHeights("main svg.spark polyline.spark-in")).size > 1);
  await page.screenshot({ path: join(ARTIFACTS, "console-topic.png"), fullPage: true });
  assert.match(await page.$eval("main svg.spark title", (t) => t.textContent ?? ""), /in \d+(\.\d)? (B|KiB)\/s/);

  await page.goto(`${url}/topics/${TOPIC}/messages?partition=0&format=json`);
  const shown = await text();
  assert.match(shown, /"item": "tea"/);
  assert.match(shown, /"item": "<b>cake<\/b>"/, "markup in a value is shown as text");
  assert.equal(await page.$("main pre b"), null, "and never rendered as markup");
  assert.match(shown, /plain text line/);
  assert.match(shown, /cust-7/);
  assert.match(shown, /source: kcat/);
  assert.match(shown, /gzip/);
  await page.screenshot({ path: join(ARTIFACTS, "console-messages.png"), fullPage: true });
  await page.goto(`${url}/topics/${TOPIC}/messages?partition=0&offset=2&format=hex`);
  assert.match(await text(), new RegExp(Buffer.from("plain text line").toString("hex")));
  assert.doesNotMatch(await text(), /tea/);
  // By time: from a minute ago, all three; from a minute ahead, none.
  await page.goto(`${url}/topics/${TOPIC}/messages?timestamp=${Date.now() - 60_000}`);
  assert.equal((await page.$$("pre.value")).length, 3);
  await page.goto(`${url}/topics/${TOPIC}/messages?timestamp=${new Date(Date.now() + 60_000).toISOString()}`);
  assert.match(await text(), /no messages/);

  const first = kcatMember();
  try {
    // Partition 1 is empty: nothing committed there, so no lag shown (as Kafka's tool's "-").
    await waitForLags("the group consumed everything", (l) => l.length === 1 && l[0] === 0);
    await page.goto(`${url}/groups`);
    assert.match(await text(), new RegExp(`${GROUP}\\s+classic\\s+Stable`));
  } finally {
    await stop(first);
  }
  // The group is empty now: reset it to the earliest offsets through the console's form.
  await groupLags();
  await page.select("form[action$='/reset'] select[name=to]", "earliest");
  await Promise.all([page.waitForNavigation(), page.click("form[action$='/reset'] button")]);
  assert.match(await text(), /Reset the offsets of browser-group/);
  const reset = await groupLags();
  assert.deepEqual(reset, [3, 0], "partition 0 has its three messages to read again");

  const second = kcatMember();
  try {
    await waitForLags("the group caught up again", (l) => l.length === 2 && l.every((x) => x === 0));
    await page.screenshot({ path: join(ARTIFACTS, "console-group.png"), fullPage: true });
  } finally {
    await stop(second);
  }
});

test("the console escapes what it renders and refuses cross-site posts", { skip, timeout: 20_000 }, async () => {
  const res = await fetch(`${url}/topics/${encodeURIComponent("<script>x</script>")}`);
  const body = await res.text();
  assert.equal(body.includes("<script>x</script>"), false);
  assert.match(body, /&lt;script&gt;x&lt;\/script&gt;/);
  const forged = await fetch(`${url}/topics`, {
    method: "POST",
    headers: { origin: "http://evil.example", "content-type": "application/x-www-form-urlencoded" },
    body: "name=forged",
  });
  assert.equal(forged.status, 403);
  const topics = await (await fetch(`${url}/topics`)).text();
  assert.doesNotMatch(topics, /forged/);
});
