/**
 * @soorma/sdk: TypeScript client of the Soorma Event Service.
 *
 * - {@link EventBusClient}: reconnecting WebSocket client (publish, subscribe, status).
 * - {@link Agent} / {@link Worker}: named handlers with at-least-once delivery, lease renewal and graceful stop.
 */

// Shared vocabulary, so agent code needs one import.
export type { ErrorCode, EventEnvelope, EventEnvelopeInput, TopicName } from "@soorma/common";
export {
  AuthError,
  BrokerUnavailableError,
  ClientClosedError,
  ConfigError,
  DEAD_LETTER_TOPIC,
  ERROR_CODES,
  EventEnvelopeSchema,
  EventTopic,
  LimitError,
  PROTOCOL_VERSION,
  ProtocolError,
  RemoteError,
  SoormaError,
  TimeoutError,
  ValidationError,
} from "@soorma/common";
export type { AgentOptions, StopOptions } from "./agent/agent.js";
export { Agent } from "./agent/agent.js";
export type { ContextBus, EventContext } from "./agent/context.js";
export type { EventHandler } from "./agent/handler-registry.js";
export type { RespondOptions } from "./agent/propagation.js";
export { Worker } from "./agent/worker.js";
export type { ReconnectOptions } from "./client/backoff.js";
export { DEFAULT_RECONNECT } from "./client/backoff.js";
export type { Delivery, NackOptions } from "./client/delivery.js";
export type { CloseOptions } from "./client/event-bus-client.js";
export { EventBusClient } from "./client/event-bus-client.js";
export type { AuthOptions, EventBusClientOptions } from "./client/options.js";
export {
  DEFAULT_MAX_BUFFERED_PUBLISHES,
  DEFAULT_MAX_IN_FLIGHT_PUBLISHES,
  DEFAULT_REQUEST_TIMEOUT_MS,
} from "./client/options.js";
export type { CallOptions, PublishOptions, PublishResult } from "./client/publish-options.js";
export type { ClientStatus, StatusChange } from "./client/status.js";
export type { Logger, LogLevel } from "./logger.js";
export { createConsoleLogger } from "./logger.js";
export { SDK_VERSION } from "./version.js";
