import { createHash } from "node:crypto";
import { AGENT_NAME_PATTERN, ConfigError, TOPIC_NAME_PATTERN } from "@soorma/common";
import type { InboxKey } from "../adapter.js";

/**
 * Pub/Sub resource ids of Soorma topics and inboxes.
 *
 * Pub/Sub topic and subscription ids are 3 to 255 characters of `[A-Za-z0-9-_.~+%]`, start with a letter and
 * must not start with `goog`. Soorma's tenants, topics and groups only use `[A-Za-z0-9_-]`, so `.` separates
 * them without ambiguity:
 *
 * | resource | id |
 * | --- | --- |
 * | topic of a Soorma topic | `<prefix>.<tenant>.<topic>` |
 * | subscription = one inbox | `<prefix>.<tenant>.<topic>.<group>` |
 * | a tenant's undeliverable backstop (topic and subscription) | `<prefix>.<tenant>._undeliverable` |
 *
 * `_undeliverable` cannot clash with a Soorma topic (topic names start with a lower-case letter). An id longer
 * than 255 characters (only possible for subscriptions with very long tenant, topic and group names) keeps its
 * first characters and ends in `~` plus a hash of the full id: still deterministic, so every gateway replica
 * finds the same subscription. `~` never occurs otherwise, so it marks ids that cannot be parsed back.
 */

/** Longest Pub/Sub topic or subscription id. */
export const PUBSUB_ID_MAX_LENGTH = 255;

/** Default first segment of every resource id the adapter creates. */
export const DEFAULT_PUBSUB_PREFIX = "soorma";

/**
 * Rule of a resource prefix: starts with a letter (so every id does), no `.` (the separator), at most 32
 * characters, and not `goog…` (reserved by Pub/Sub).
 */
export const PUBSUB_PREFIX_PATTERN = /^(?!goog)[A-Za-z][A-Za-z0-9_-]{0,31}$/i;

/** Segment that names a tenant's undeliverable backstop topic and subscription. */
export const UNDELIVERABLE_SEGMENT = "_undeliverable";

const HASH_LENGTH = 16;
const HASH_MARK = "~";
const TENANT_PATTERN = /^[A-Za-z0-9_-]{1,64}$/;

/** Throw {@link ConfigError} unless `prefix` follows {@link PUBSUB_PREFIX_PATTERN}. */
export function assertValidPrefix(prefix: string): void {
  if (!PUBSUB_PREFIX_PATTERN.test(prefix)) {
    throw new ConfigError(
      `Pub/Sub resource prefix ${JSON.stringify(prefix)} is invalid: letters, digits, '_' and '-', starting with a letter, at most 32 characters, not starting with "goog"`,
    );
  }
}

/** Id of the Pub/Sub topic that stores Soorma topic `topic` of `tenant`. */
export function topicResourceId(prefix: string, tenant: string, topic: string): string {
  return fitResourceId(`${prefix}.${tenant}.${topic}`);
}

/** Id of the Pub/Sub subscription that is inbox `key`. */
export function subscriptionResourceId(prefix: string, key: InboxKey): string {
  return fitResourceId(`${prefix}.${key.tenant}.${key.topic}.${key.group}`);
}

/**
 * Id of `tenant`'s undeliverable backstop: the dead-letter topic of every subscription of the tenant (Pub/Sub
 * forwards a message there after its own delivery limit), and the subscription on it that keeps such messages.
 */
export function undeliverableResourceId(prefix: string, tenant: string): string {
  return fitResourceId(`${prefix}.${tenant}.${UNDELIVERABLE_SEGMENT}`);
}

/** The inbox a subscription id names, or `undefined` for ids that are not (parseable) Soorma inboxes. */
export function parseSubscriptionResourceId(prefix: string, id: string): InboxKey | undefined {
  if (id.includes(HASH_MARK)) return undefined;
  const [head, tenant, topic, group, ...rest] = id.split(".");
  if (head !== prefix || tenant === undefined || topic === undefined || group === undefined) return undefined;
  if (rest.length > 0) return undefined;
  if (!TENANT_PATTERN.test(tenant) || !TOPIC_NAME_PATTERN.test(topic) || !AGENT_NAME_PATTERN.test(group)) {
    return undefined;
  }
  return { tenant, topic, group };
}

/** The Soorma tenant and topic a topic id names, or `undefined` for other topics. */
export function parseTopicResourceId(
  prefix: string,
  id: string,
): { tenant: string; topic: string } | undefined {
  const [head, tenant, topic, ...rest] = id.split(".");
  if (head !== prefix || tenant === undefined || topic === undefined || rest.length > 0) return undefined;
  if (!TENANT_PATTERN.test(tenant) || !TOPIC_NAME_PATTERN.test(topic)) return undefined;
  return { tenant, topic };
}

/** `id` itself when it fits Pub/Sub's length limit, else its head plus `~` and a hash of the whole id. */
export function fitResourceId(id: string): string {
  if (id.length <= PUBSUB_ID_MAX_LENGTH) return id;
  const hash = createHash("sha256").update(id).digest("hex").slice(0, HASH_LENGTH);
  return `${id.slice(0, PUBSUB_ID_MAX_LENGTH - HASH_LENGTH - HASH_MARK.length)}${HASH_MARK}${hash}`;
}

/** Full resource name of a topic id: `projects/<project>/topics/<id>`. */
export function topicPath(projectId: string, id: string): string {
  return `projects/${projectId}/topics/${id}`;
}

/** Full resource name of a subscription id: `projects/<project>/subscriptions/<id>`. */
export function subscriptionPath(projectId: string, id: string): string {
  return `projects/${projectId}/subscriptions/${id}`;
}

/** The id at the end of a full resource name (`projects/p/subscriptions/<id>` → `<id>`). */
export function resourceIdOf(path: string): string {
  return path.slice(path.lastIndexOf("/") + 1);
}

/** Full Pub/Sub resource names behind one inbox. */
export interface InboxResourcePaths {
  /** The topic the inbox's events are published on. */
  readonly topic: string;
  /** The inbox's subscription. */
  readonly subscription: string;
  /** The tenant's undeliverable topic (the subscription's dead-letter topic). */
  readonly undeliverableTopic: string;
}

/** Resource names of inbox `key` in `projectId` under `prefix`. */
export function inboxResourcePaths(projectId: string, prefix: string, key: InboxKey): InboxResourcePaths {
  return {
    topic: topicPath(projectId, topicResourceId(prefix, key.tenant, key.topic)),
    subscription: subscriptionPath(projectId, subscriptionResourceId(prefix, key)),
    undeliverableTopic: topicPath(projectId, undeliverableResourceId(prefix, key.tenant)),
  };
}
