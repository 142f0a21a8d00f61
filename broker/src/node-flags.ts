/**
 * The Node flags the broker process runs with. They are also in the first line of `main.ts` (the
 * `tskafka` command) and in `npm start`; the cluster script, the tests and the bench start the broker
 * with these, so what is tested and measured is what runs (a unit test keeps the three in step).
 *
 * Semi-spaces of 1 MiB: V8 otherwise grows the young generation under load and keeps it committed (to
 * 32 MiB on Node 20, 128 MiB on Node 24, for a loop that keeps 400,000 small objects alive); a broker's
 * garbage (request objects, views of frames) dies young either way. And a young collection is what
 * frees the socket chunks and frame copies of produce requests: serving requests of ~100 KiB allocates
 * little on the heap per byte, so with larger semi-spaces those buffers piled up to 35 MiB between
 * collections.
 * Measured with `scripts/bench/ingest-ab.ts` and `fetch-ab.ts` (`--flags v=--max-semi-space-size=N`):
 * 4 MiB against the default, peak RSS 154 -> 132 MiB under the ceiling's produce load and 119 -> 98 MiB
 * serving it; 1 MiB against 4, 147 -> 141 and 96 -> 93 MiB, CPU per GB +2-6 % ingesting (inside the
 * spread) and +0-8 % serving; a KafkaJS producer of 1 KiB records (100 per request), 118-120 -> 94-95 MiB;
 * right after start-up 88 -> 84 MiB.
 */
export const BROKER_NODE_FLAGS: readonly string[] = ["--max-semi-space-size=1"];
