import { z } from "zod";

/**
 * The eight standard Soorma topics. Values are the wire names shared with the Python SDK.
 *
 * @example
 * worker.onEvent("order.placed", { topic: EventTopic.BUSINESS_FACTS }, handler);
 */
export const EventTopic = {
  ACTION_REQUESTS: "action-requests",
  ACTION_RESULTS: "action-results",
  BUSINESS_FACTS: "business-facts",
  NOTIFICATION_EVENTS: "notification-events",
  SYSTEM_EVENTS: "system-events",
  BILLING_EVENTS: "billing-events",
  PLAN_EVENTS: "plan-events",
  TASK_EVENTS: "task-events",
} as const;

/** One of the standard topic names. */
export type StandardTopic = (typeof EventTopic)[keyof typeof EventTopic];

/** Every standard topic name, in declaration order. */
export const STANDARD_TOPICS: readonly StandardTopic[] = Object.values(EventTopic);

/**
 * Topic that receives events which exhausted `maxAttempts`. It follows the custom-topic rule, so
 * agents can subscribe to it like any other topic.
 */
export const DEAD_LETTER_TOPIC = "dead-letters";

/**
 * The rule every topic name follows, standard or custom: lower-case kebab-case, 1 to 64 characters,
 * starting with a letter. Kept this narrow because the name becomes a token of a NATS subject and part of
 * a Pub/Sub topic id, neither of which tolerates dots, wildcards or upper case consistently.
 */
export const TOPIC_NAME_PATTERN = /^[a-z][a-z0-9]*(?:-[a-z0-9]+)*$/;

/** Longest accepted topic name. */
export const TOPIC_NAME_MAX_LENGTH = 64;

/** A topic name: a standard topic or a custom one matching {@link TOPIC_NAME_PATTERN}. */
export const TopicNameSchema = z
  .string()
  .max(TOPIC_NAME_MAX_LENGTH, { message: `topic names are at most ${TOPIC_NAME_MAX_LENGTH} characters` })
  .regex(TOPIC_NAME_PATTERN, {
    message: "topic names are lower-case kebab-case (e.g. 'action-requests', 'my-custom-topic')",
  });

/** A topic name, standard or custom. */
export type TopicName = StandardTopic | (string & {});

/** True when `name` is a valid topic name (standard or custom). */
export function isValidTopicName(name: string): boolean {
  return name.length <= TOPIC_NAME_MAX_LENGTH && TOPIC_NAME_PATTERN.test(name);
}

/** True when `name` is one of the eight standard topics. */
export function isStandardTopic(name: string): name is StandardTopic {
  return (STANDARD_TOPICS as readonly string[]).includes(name);
}
