import type { ApiRequests } from "@tskafka/protocol";
import type { Handler, RequestContext } from "../handlers/handler.js";
import type { BrokerMetrics } from "./broker-metrics.js";

/**
 * `handler` with its requests counted and timed: the same handler (versions, error answers, zero-copy
 * buffers) whose `handle` reports to `metrics` once its answer is ready. Made once per API at start-up;
 * per request it costs two clock reads and the promise of an async call (the connection awaits the
 * answer anyway).
 */
export function meteredHandler(handler: Handler, metrics: BrokerMetrics): Handler {
  const inner = handler.handle.bind(handler);
  const apiKey = handler.apiKey;
  const handle = async (request: ApiRequests[keyof ApiRequests], ctx: RequestContext) => {
    const start = performance.now();
    try {
      const response = await inner(request as never, ctx);
      metrics.requestDone(apiKey, ctx.apiVersion, request, response as never, (performance.now() - start) / 1000);
      return response;
    } catch (e) {
      metrics.requestFailed(apiKey, ctx.apiVersion, (performance.now() - start) / 1000);
      throw e;
    }
  };
  return { ...handler, handle } as Handler;
}
