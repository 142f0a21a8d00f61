import { mkdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { randomBytes } from "node:crypto";
import { writeFileAtomic } from "../atomic-file.js";
import { parseProperties } from "../config.js";

/** Kafka's file of a log directory's identity. */
export const META_PROPERTIES = "meta.properties";

/** A KIP-858 directory id: 16 random bytes in URL-safe base64 without padding, as Kafka prints a Uuid. */
function newDirectoryId(): string {
  return randomBytes(16).toString("base64url");
}

async function readMeta(path: string): Promise<Map<string, string> | null> {
  try {
    return parseProperties(await readFile(path, "utf8"));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return null;
    throw err;
  }
}

/** Kafka's checks of one stored identity against the cluster, the node and the ids already seen. */
function check(
  path: string,
  meta: Map<string, string>,
  clusterId: string,
  nodeId: number,
  seen: Map<string, string>,
): string {
  const storedCluster = meta.get("cluster.id");
  if (storedCluster !== undefined && storedCluster !== clusterId) {
    throw new Error(`Invalid cluster.id in: ${path}. Expected ${clusterId}, but read ${storedCluster}`);
  }
  const storedNode = meta.get("node.id");
  if (storedNode !== undefined && Number(storedNode) !== nodeId) {
    throw new Error(
      `Stored node id ${storedNode} doesn't match previous node id ${nodeId} in ${path}. If you moved your data, make sure your configured node id matches. If you intend to create a new node, you should remove all data in your data directories.`,
    );
  }
  const id = meta.get("directory.id");
  if (id === undefined) return "";
  const other = seen.get(id);
  if (other !== undefined)
    throw new Error(`Duplicate directory ID ${id} found. It was the ID of ${other}, but also of ${path}`);
  return id;
}

/**
 * Each log directory's identity, in Kafka's meta.properties (version 1): the cluster and node it belongs
 * to and its own directory id (KIP-858). A directory that names another cluster or node, or that has the
 * id of another directory, stops start-up with Kafka's message (a disk from elsewhere, a copied
 * directory); one without the file, or without an id, gets them (a new directory, or a data directory
 * from before several log directories). Returns the directory ids by directory.
 */
export async function verifyLogDirIdentities(
  dirs: readonly string[],
  clusterId: string,
  nodeId: number,
): Promise<Map<string, string>> {
  const ids = new Map<string, string>();
  const seen = new Map<string, string>();
  for (const dir of dirs) {
    await mkdir(dir, { recursive: true });
    const path = join(dir, META_PROPERTIES);
    const meta = await readMeta(path);
    let id = meta === null ? "" : check(path, meta, clusterId, nodeId, seen);
    if (id === "") {
      id = newDirectoryId();
      const text = `version=1\ncluster.id=${clusterId}\nnode.id=${nodeId}\ndirectory.id=${id}\n`;
      await writeFileAtomic(path, text);
    }
    seen.set(id, path);
    ids.set(dir, id);
  }
  return ids;
}
