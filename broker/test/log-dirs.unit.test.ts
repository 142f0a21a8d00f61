import assert from "node:assert/strict";
import { copyFile, cp, mkdir, readdir, readFile, rename } from "node:fs/promises";
import { join, resolve } from "node:path";
import { describe, it } from "node:test";
import { buildConfig, ConfigError } from "../src/config.js";
import { META_PROPERTIES, verifyLogDirIdentities } from "../src/log/dir-identity.js";
import { FUTURE_DIR_SUFFIX, suffixedName } from "../src/log/log-dir-move.js";
import { LogManager } from "../src/log/log-manager.js";
import { batchOf } from "./log-fixtures.js";
import { withTempDir } from "./temp.js";

/**
 * Several log directories in process: which directories a config names (log.dirs, log.dir,
 * metadata.log.dir, --data-dir), where new partitions go, and what start-up makes of a move that a
 * crash interrupted (a `-future` directory beside its partition, or alone).
 */

const config = (file: Record<string, string>, dataDir?: string) =>
  buildConfig({ file: new Map(Object.entries(file)), ...(dataDir !== undefined ? { dataDir } : {}) });

describe("log directories in the config", () => {
  it("log.dirs lists several; log.dir when it is unset; metadata in the first unless metadata.log.dir", () => {
    const several = config({ "log.dirs": "/a, /b,/c" });
    assert.deepEqual(several.logDirs, ["/a", "/b", "/c"]);
    assert.equal(several.dataDir, "/a");
    assert.deepEqual(config({ "log.dir": "/x" }).logDirs, ["/x"]);
    assert.deepEqual(config({ "log.dir": "/x", "log.dirs": "/y" }).logDirs, ["/y"]);
    assert.deepEqual(config({}).logDirs, [resolve("./data")]);
    assert.equal(config({ "log.dirs": "/a,/b", "metadata.log.dir": "/m" }).dataDir, "/m");
    assert.deepEqual(config({ "log.dirs": "/a,/b" }, "/one").logDirs, ["/one"]);
  });

  it("refuses an empty or repeated directory, and several for --data-dir", () => {
    assert.throws(() => config({ "log.dirs": "/a,,/b" }), /log\.dirs.*none empty/);
    assert.throws(() => config({ "log.dirs": "/a,/a" }), /log\.dirs.*listed twice/);
    assert.throws(
      () => config({}, "/a,/b"),
      (e: unknown) => e instanceof ConfigError && /--data-dir/.test(e.message),
    );
  });
});

describe("LogManager with several directories", () => {
  it("puts each new partition in the directory with the fewest", async () => {
    await withTempDir("tskafka-logdirs-", async (root) => {
      const dirs = ["a", "b", "c"].map((d) => join(root, d));
      await mkdir(dirs[1]!, { recursive: true });
      const manager = await LogManager.open(dirs);
      for (let p = 0; p < 4; p++) await manager.getOrCreate("t", p);
      // The counts are now 2, 1, 1: the next goes to the first of the fewest in configuration order.
      await manager.getOrCreate("u", 0);
      assert.deepEqual(await Promise.all(dirs.map(async (d) => (await readdir(d)).sort())), [
        ["t-0", "t-3"],
        ["t-1", "u-0"],
        ["t-2"],
      ]);
      assert.deepEqual(manager.nextLogDirs(), [dirs[2], dirs[0], dirs[1]]);
      await manager.close();
    });
  });

  it("at start-up, drops a future beside its partition and promotes one that is alone", async () => {
    await withTempDir("tskafka-logdirs-", async (root) => {
      const [a, b] = [join(root, "a"), join(root, "b")];
      let manager = await LogManager.open([a, b]);
      await (await manager.getOrCreate("kept", 0)).append(batchOf(3));
      await (await manager.getOrCreate("moved", 0)).append(batchOf(5));
      await manager.close();
      const keptAt = (await readdir(a)).includes("kept-0") ? a : b;
      const movedAt = (await readdir(a)).includes("moved-0") ? a : b;
      const other = (dir: string): string => (dir === a ? b : a);
      // A copy stopped before its swap; and a swap that renamed the old directory away but not the future in.
      await cp(join(keptAt, "kept-0"), suffixedName(join(other(keptAt), "kept-0"), FUTURE_DIR_SUFFIX), {
        recursive: true,
      });
      await rename(join(movedAt, "moved-0"), suffixedName(join(other(movedAt), "moved-0"), FUTURE_DIR_SUFFIX));

      manager = await LogManager.open([a, b]);
      assert.equal(manager.get("kept", 0)?.logEndOffset, 3n);
      assert.equal(manager.dirOf(manager.get("kept", 0)!), keptAt);
      assert.equal(manager.get("moved", 0)?.logEndOffset, 5n);
      assert.equal(manager.dirOf(manager.get("moved", 0)!), other(movedAt));
      assert.deepEqual(
        (await readdir(other(keptAt))).filter((n) => n.startsWith("kept")),
        [],
      );
      await manager.close();
    });
  });

  it("moves a log between directories in place, and a second move cancels the first", async () => {
    await withTempDir("tskafka-logdirs-", async (root) => {
      const [a, b, c] = ["a", "b", "c"].map((d) => join(root, d)) as [string, string, string];
      const manager = await LogManager.open([a, b, c]);
      const log = await manager.getOrCreate("m", 0);
      assert.equal(manager.dirOf(log), a);
      for (let i = 0; i < 20; i++) await log.append(batchOf(50, `r${i}`, 1000));
      await manager.moveLog("m", 0, b);
      await manager.moveOf("m", 0)!.done;
      assert.equal(manager.get("m", 0), log, "the same log object goes on");
      assert.equal(manager.dirOf(log), b);
      assert.equal((await log.append(batchOf(1))).baseOffset, 1000n);

      await manager.moveLog("m", 0, c);
      const first = manager.moveOf("m", 0)!;
      await manager.moveLog("m", 0, a);
      await first.done.then(
        () => assert.fail("the first move was not cancelled"),
        (e: Error) => assert.equal(e.message, "cancelled"),
      );
      await manager.moveOf("m", 0)?.done;
      assert.equal(manager.dirOf(log), a);
      // No copy is left behind (the old directories, renamed `-delete`, are removed in the background).
      const left = async (d: string) => (await readdir(d)).filter((n) => n === "m-0" || n.endsWith("-future"));
      assert.deepEqual([await left(b), await left(c)], [[], []]);
      const read = await log.read(0n, 1 << 20, { minOneBatch: true });
      assert.equal(read.highWatermark, 1001n);
      await manager.close();
      const reopened = await LogManager.open([a, b, c]);
      assert.equal(reopened.get("m", 0)?.logEndOffset, 1001n);
      assert.equal(reopened.dirOf(reopened.get("m", 0)!), a);
      await reopened.close();
    });
  });

  it("refuses to start with a partition in two directories", async () => {
    await withTempDir("tskafka-logdirs-", async (root) => {
      const [a, b] = [join(root, "a"), join(root, "b")];
      const manager = await LogManager.open([a]);
      await manager.getOrCreate("twice", 0);
      await manager.close();
      await cp(join(a, "twice-0"), join(b, "twice-0"), { recursive: true });
      await assert.rejects(LogManager.open([a, b]), /duplicate log directories for twice-0/);
    });
  });
});

describe("log directory identities (meta.properties)", () => {
  it("are written once, kept, and refuse another cluster's or node's directory or a copied id", async () => {
    await withTempDir("tskafka-logdirs-", async (root) => {
      const [a, b] = [join(root, "a"), join(root, "b")];
      const ids = await verifyLogDirIdentities([a, b], "cluster-1", 1);
      assert.equal(new Set(ids.values()).size, 2);
      assert.match(
        await readFile(join(a, META_PROPERTIES), "utf8"),
        /^version=1\ncluster\.id=cluster-1\nnode\.id=1\ndirectory\.id=/,
      );
      assert.deepEqual(await verifyLogDirIdentities([a, b], "cluster-1", 1), ids);
      await assert.rejects(
        verifyLogDirIdentities([a], "cluster-2", 1),
        new RegExp(`Invalid cluster\\.id in: ${join(a, META_PROPERTIES)}\\. Expected cluster-2, but read cluster-1`),
      );
      await assert.rejects(
        verifyLogDirIdentities([b], "cluster-1", 2),
        /Stored node id 1 doesn't match previous node id 2/,
      );
      await copyFile(join(a, META_PROPERTIES), join(b, META_PROPERTIES));
      await assert.rejects(verifyLogDirIdentities([a, b], "cluster-1", 1), /Duplicate directory ID/);
    });
  });
});
