export { freePort } from "./ports.js";
export type { WaitForOptions } from "./wait.js";
export { deferred, waitFor, withDeadline } from "./wait.js";
