import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { REPO_ROOT } from "../harness.js";

/**
 * The project's Python virtualenv (`.cache/venv`, made by the test-deps setup) holding today's Python
 * clients from PyPI: confluent-kafka 2.16 (librdkafka inside) and kafka-python 3.x, plus the codec
 * modules kafka-python uses (python-snappy, lz4, zstandard).
 */

export const VENV_PYTHON = join(REPO_ROOT, ".cache", "venv", "bin", "python");

/** True when the venv's interpreter exists and imports every module named. */
export function haveVenvModules(...modules: string[]): boolean {
  if (!existsSync(VENV_PYTHON)) return false;
  const r = spawnSync(VENV_PYTHON, ["-c", modules.map((m) => `import ${m}`).join("; ")], {
    stdio: "ignore",
    timeout: 20_000,
  });
  return r.status === 0;
}

/** Where the Python scripts of the client tests live. */
export const CLIENTS_DIR = join(REPO_ROOT, "broker", "test", "clients");
