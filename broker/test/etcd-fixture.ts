import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { tsImport } from "tsx/esm/api";
import { REPO_ROOT } from "./harness.js";

/**
 * A real etcd for the cluster tests: `scripts/etcd/etcd.ts` (loaded through tsx: it lives outside the
 * broker's build) on free loopback ports and a fresh data folder.
 */

/** scripts/etcd/etcd.ts's handle: it can be killed and started again on the same ports and data. */
export interface EtcdHandle {
  readonly endpoint: string;
  pid(): number;
  kill(): Promise<void>;
  start(): Promise<void>;
  close(): Promise<void>;
}

export async function startTestEtcd(): Promise<EtcdHandle> {
  const runner = (await tsImport(
    pathToFileURL(join(REPO_ROOT, "scripts", "etcd", "etcd.ts")).href,
    import.meta.url,
  )) as {
    startEtcd(): Promise<EtcdHandle>;
  };
  return runner.startEtcd();
}
