import { randomBytes } from "node:crypto";

/** Topic of every benchmark event: a Worker's default topic. */
export const BENCH_TOPIC = "action-requests";

/** Event type of every benchmark event; the consuming Worker handles only this one. */
export const BENCH_EVENT_TYPE = "bench.task";

/** Payload of every benchmark event: small, so the numbers are the messaging path's cost, not JSON's. */
export const BENCH_DATA = Object.freeze({ n: 1 });

/**
 * A name valid as agent name and event id prefix, unique per call.
 * @param {string} prefix
 * @returns {string}
 */
export function uniqueName(prefix) {
  return `${prefix}-${randomBytes(4).toString("hex")}`;
}
