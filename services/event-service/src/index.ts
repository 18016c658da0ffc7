export type { BuildAppOptions } from "./app.js";
export { buildApp, SERVER_VERSION } from "./app.js";
export type { ApiKeyEntry } from "./auth/api-keys.js";
export { generateApiKey, hashApiKey } from "./auth/api-keys.js";
export type { AuthFailureReason } from "./auth/auth-errors.js";
export type { AuthenticateInput, Authenticator } from "./auth/authenticator.js";
export { createAuthenticator } from "./auth/authenticator.js";
export type { AuthConfig, AuthConfigInput } from "./auth/config.js";
export { AUTH_ENV_VARS, redactAuthConfig } from "./auth/config.js";
export { CREDENTIALS_EXPIRED_CLOSE_CODE } from "./auth/expiry.js";
export type { AllowList, CredentialKind, Principal, Role } from "./auth/principal.js";
export { ROLES } from "./auth/principal.js";
export type {
  AdapterCapabilities,
  AdapterKind,
  AdapterStatus,
  BrokerAdapter,
  BrokerMessage,
  InboxConsumer,
  InboxKey,
  InboxStats,
  OpenInboxOptions,
  PublishReceipt,
  PullOptions,
} from "./broker/adapter.js";
export type { CreateAdapterOptions } from "./broker/factory.js";
export { createAdapter } from "./broker/factory.js";
export type { GooglePubSubAdapter, GooglePubSubAdapterOptions } from "./broker/google-pubsub.js";
export { createGooglePubSubAdapter } from "./broker/google-pubsub.js";
export type { MemoryAdapterOptions } from "./broker/memory.js";
export { createMemoryAdapter } from "./broker/memory.js";
export type { NatsAdapterLogger, NatsJetStreamAdapterOptions } from "./broker/nats-jetstream.js";
export { createNatsJetStreamAdapter } from "./broker/nats-jetstream.js";
export type { SqliteAdapterOptions } from "./broker/sqlite.js";
export { createSqliteAdapter, SQLITE_FILE_NAME } from "./broker/sqlite.js";
export type { GatewayConfig, GatewayConfigInput, SettingSource } from "./config.js";
export { BROKER_KINDS, GatewayConfigSchema, loadConfig, resolveConfig, SETTINGS } from "./config.js";
export { CLOSE_CODES } from "./core/close-codes.js";
export type { LastError } from "./core/dead-letter.js";
export { DEAD_LETTER_EVENT_TYPE, GATEWAY_SOURCE } from "./core/dead-letter.js";
export type { DispatcherOptions, GroupSnapshot, MemberSnapshot, NackOptions } from "./core/dispatcher.js";
export { Dispatcher } from "./core/dispatcher.js";
export type { DrainOptions, GatewayOptions } from "./core/gateway.js";
export { Gateway } from "./core/gateway.js";
export type { CoreLogger } from "./core/logger.js";
export type { RetryPolicyOptions } from "./core/retry-policy.js";
export { RetryPolicy } from "./core/retry-policy.js";
export type { LimitsConfig, LimitsConfigInput } from "./limits/config.js";
export { LIMITS_ENV_VARS } from "./limits/config.js";
export type { ErrorBody } from "./plugins/error-handler.js";
export type { AdminGroup } from "./routes/admin.js";
export type { ProvisionInboxResponse } from "./routes/admin-inboxes.js";
export type { PublishResponse } from "./routes/publish.js";
export { wsMaxPayloadBytes } from "./routes/ws.js";
