import { apis, type ApiRequests, type ApiResponses } from "@tskafka/protocol";
import type { Handler } from "../handlers/handler.js";

/**
 * The answer to a request whose handler failed, as Kafka's AbstractRequest.getErrorResponse gives it:
 * the handler's own (which names every topic and partition of the request with the error), else the
 * API's default response with the error in its top-level error code, when the version has one. Null
 * when neither exists: the connection is then closed, as nothing valid can be said.
 */
export async function errorResponse<K extends keyof ApiRequests & keyof ApiResponses>(
  handler: Handler<K>,
  request: ApiRequests[K],
  apiVersion: number,
  errorCode: number,
): Promise<ApiResponses[K] | null> {
  const own = handler.errorResponse?.(request, errorCode, apiVersion);
  if (own !== undefined) return own;
  if (!(await hasTopLevelErrorCode(handler.apiKey, apiVersion))) return null;
  const body = apis[handler.apiKey].response.create() as ApiResponses[K] & { errorCode: number };
  body.errorCode = errorCode;
  return body;
}

const topLevel = new Map<number, { min: number; max: number } | null>();
/** The descriptors are loaded on the first failure only: a healthy broker never needs them. */
let descriptors: Promise<typeof import("@tskafka/protocol/descriptors")> | undefined;

async function hasTopLevelErrorCode(apiKey: number, version: number): Promise<boolean> {
  let range = topLevel.get(apiKey);
  if (range === undefined) {
    const { messageDescriptors } = await (descriptors ??= import("@tskafka/protocol/descriptors"));
    const name = (apis as Record<number, { response: { name: string } }>)[apiKey]?.response.name;
    const message = name === undefined ? undefined : messageDescriptors[name];
    const field = message?.structs[message.name]?.fields.find((f) => f.name === "errorCode" && f.type === "int16");
    range = field?.versions ?? null;
    topLevel.set(apiKey, range);
  }
  return range !== null && version >= range.min && version <= range.max;
}
