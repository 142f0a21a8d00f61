import {
  ApiKey,
  createDeleteTopicsResponse,
  createDeleteTopicsResponseDeletableTopicResult,
  type DeleteTopicsResponseDeletableTopicResult,
} from "@tskafka/protocol";
import { ErrorCode } from "../errors.js";
import { AclOperation } from "../security/acl.js";
import { AUTHORIZATION_MESSAGE, allowedNames, clusterAllowed } from "./authz.js";
import { defineHandler } from "./handler.js";

const ZERO_UUID = "AAAAAAAAAAAAAAAAAAAAAA";

/**
 * DeleteTopics v0-6: topics by name, and from v6 by name or by id. The partition logs go with the topic
 * (renamed at once, removed in the background). As Kafka's controller authorizes: DELETE on the cluster,
 * or DESCRIBE and DELETE on the topic (TOPIC_AUTHORIZATION_FAILED; a topic named by id keeps its name in
 * the answer only when the session may describe it; one named by name is not looked up without DESCRIBE).
 */
export const deleteTopicsHandler = defineHandler({
  apiKey: ApiKey.DeleteTopics,
  minVersion: 0,
  maxVersion: 6,
  async handle(request, ctx) {
    const services = ctx.services;
    const wanted: { name: string | null; topicId: string }[] =
      ctx.apiVersion >= 6 ? request.topics : request.topicNames.map((name) => ({ name, topicId: ZERO_UUID }));
    const responses: DeleteTopicsResponseDeletableTopicResult[] = [];
    const all = clusterAllowed(ctx, AclOperation.DELETE, false);
    const describable = all ? () => true : allowedNames(ctx, AclOperation.DESCRIBE);
    const deletable = all ? () => true : allowedNames(ctx, AclOperation.DELETE);
    const refuse = (out: DeleteTopicsResponseDeletableTopicResult): void => {
      out.errorCode = ErrorCode.TOPIC_AUTHORIZATION_FAILED;
      out.errorMessage = AUTHORIZATION_MESSAGE[out.errorCode]!;
    };
    for (const want of wanted) {
      const byId = want.name === null;
      const out = createDeleteTopicsResponseDeletableTopicResult({ name: want.name, topicId: want.topicId });
      responses.push(out);
      if (!byId && want.topicId !== ZERO_UUID) {
        out.errorCode = ErrorCode.INVALID_REQUEST;
        out.errorMessage = "A topic must be named by name or by id, not both.";
        continue;
      }
      if (!byId && !describable(want.name!)) {
        refuse(out);
        continue;
      }
      const info = want.name === null ? services.metadata.topicById(want.topicId) : services.metadata.topic(want.name);
      if (info !== undefined && !deletable(info.name)) {
        refuse(out);
        if (byId && describable(info.name)) out.name = info.name;
        continue;
      }
      if (info === undefined) {
        out.errorCode = byId ? ErrorCode.UNKNOWN_TOPIC_ID : ErrorCode.UNKNOWN_TOPIC_OR_PARTITION;
        out.errorMessage = byId
          ? "This server does not host this topic ID."
          : "This server does not host this topic-partition.";
        continue;
      }
      // v6 answers with both name and id; v0-5 only carry the name.
      if (ctx.apiVersion >= 6) {
        out.name = info.name;
        out.topicId = info.id;
      }
      await services.topics.delete(info.name);
    }
    return createDeleteTopicsResponse({ responses });
  },
});
