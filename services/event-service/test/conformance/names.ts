import { randomBytes } from "node:crypto";

/**
 * A name no other test uses: lower-case letters and digits after `prefix`, valid as a topic name (kebab-case,
 * starts with a letter), as an agent name and as an event-type word. Tests share gateways and brokers, so every
 * topic, group and event type they create goes through this.
 */
export function uniqueName(prefix: string): string {
  return `${prefix}-${randomBytes(5).toString("hex")}`;
}

/** A unique dotted event type such as `conf.a1b2c3d4e5.requested`. */
export function uniqueEventType(suffix = "happened"): string {
  return `conf.x${randomBytes(5).toString("hex")}.${suffix}`;
}
