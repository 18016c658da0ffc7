import type { EventEnvelope } from "@soorma/common";
import { ConfigError, ValidationError } from "@soorma/common";

/**
 * The subject scheme of the NATS adapter (documented in docs/adapters/nats.md, so other services can publish
 * into the stream or tap it):
 *
 * ```
 * <prefix>.<tenant>.<topic>.<event type words…>      e.g. soorma.default.action-requests.heavy.task.requested
 * ```
 *
 * Tenant and topic are single tokens by the naming rules of `@soorma/common` (no dots), and an event type is one
 * token per dotted word, so `<prefix>.<tenant>.<topic>.>` selects exactly one topic of one tenant: the filter of
 * every inbox consumer.
 */

/** Default first token(s) of every subject. */
export const DEFAULT_SUBJECT_PREFIX = "soorma";

// One or more subject tokens of safe characters; wildcards and empty tokens would change what the stream binds.
const PREFIX_PATTERN = /^[A-Za-z0-9_-]+(?:\.[A-Za-z0-9_-]+)*$/;

/** Where a stored event's subject says it belongs. */
export interface SubjectParts {
  readonly tenant: string;
  readonly topic: string;
  /** The event type: every token after the topic joined by dots. */
  readonly type: string;
}

/** Throw a `ConfigError` unless `prefix` is one or more plain subject tokens. */
export function assertSubjectPrefix(prefix: string): void {
  if (!PREFIX_PATTERN.test(prefix)) {
    throw new ConfigError(
      `NATS subject prefix ${JSON.stringify(prefix)} must be dot-separated words of letters, digits, '_' or '-'`,
    );
  }
}

/** The subjects the stream binds: everything under the prefix. */
export function streamSubject(prefix: string): string {
  return `${prefix}.>`;
}

/** Subject an event is stored under. Throws `ValidationError` when the event has no platform tenant. */
export function eventSubject(prefix: string, event: EventEnvelope): string {
  const tenant = event.platform_tenant_id;
  if (typeof tenant !== "string" || tenant.length === 0) {
    throw new ValidationError(
      "SOORMA_ERR_ENVELOPE_INVALID",
      `event ${event.id} has no platform_tenant_id; the gateway must set it before publishing`,
    );
  }
  return `${prefix}.${tenant}.${event.topic}.${event.type}`;
}

/** Filter subject of every inbox of `topic` within `tenant`. */
export function topicFilterSubject(prefix: string, tenant: string, topic: string): string {
  return `${prefix}.${tenant}.${topic}.>`;
}

/**
 * Split a stored message's subject back into tenant, topic and event type; `undefined` when the subject is not
 * one of this scheme (e.g. a foreign publisher used too few tokens).
 */
export function parseEventSubject(prefix: string, subject: string): SubjectParts | undefined {
  const head = `${prefix}.`;
  if (!subject.startsWith(head)) return undefined;
  const tokens = subject.slice(head.length).split(".");
  if (tokens.length < 3) return undefined;
  const [tenant, topic, ...typeWords] = tokens;
  if (tenant === undefined || topic === undefined) return undefined;
  return { tenant, topic, type: typeWords.join(".") };
}
