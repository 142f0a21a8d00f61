/**
 * The Node flags the broker process runs with. They are also in the first line of `main.ts` (the
 * `tskafka` command) and in `npm start`; the cluster script, the tests and the bench start the broker
 * with these, so what is tested and measured is what runs (a unit test keeps the three in step).
 *
 * Semi-spaces of 4 MiB: V8 otherwise grows the young generation under load and keeps it committed (to
 * 32 MiB on Node 20, 128 MiB on Node 24, for a loop that keeps 400,000 small objects alive); a broker's
 * garbage (request objects, views of frames) dies young either way.
 * Measured with `scripts/bench/ingest-ab.ts` and `fetch-ab.ts` (`--flags v=--max-semi-space-size=4`):
 * peak RSS 154 -> 132 MiB under the ceiling's produce load and 119 -> 98 MiB serving it, CPU per GB
 * within the noise.
 */
export const BROKER_NODE_FLAGS: readonly string[] = ["--max-semi-space-size=4"];
