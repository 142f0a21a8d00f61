import { ApiKey, createListPartitionReassignmentsResponse } from "@tskafka/protocol";
import { defineHandler } from "./handler.js";

/**
 * ListPartitionReassignments v0: none is ever in progress on a single node (a reassignment completes
 * when AlterPartitionReassignments answers it), so the answer lists no topic, whichever were asked for.
 */
export const listPartitionReassignmentsHandler = defineHandler({
  apiKey: ApiKey.ListPartitionReassignments,
  minVersion: 0,
  maxVersion: 0,
  handle() {
    return createListPartitionReassignmentsResponse({ errorMessage: null, topics: [] });
  },
});
