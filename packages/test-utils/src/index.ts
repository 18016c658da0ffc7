export type {
  NatsServerHandle,
  RestartNatsServerOptions,
  StartNatsServerOptions,
  StopNatsServerOptions,
} from "./nats-server.js";
export {
  BrokerBinaryMissingError,
  findNatsServerBinary,
  NATS_SERVER_BIN_ENV,
  startNatsServer,
} from "./nats-server.js";
export type { JsonLine, OutputLinesOptions } from "./output-lines.js";
export { OutputLines } from "./output-lines.js";
export { freePort } from "./ports.js";
export type { ChildExit, ChildHandle, SpawnChildOptions, WaitForLineOptions } from "./process.js";
export { ChildExitedError, spawnChild } from "./process.js";
export type {
  PubSubEmulatorHandle,
  PubSubEmulatorLocation,
  StartPubSubEmulatorOptions,
} from "./pubsub-emulator.js";
export {
  locatePubSubEmulator,
  PUBSUB_EMULATOR_BIN_ENV,
  PUBSUB_EMULATOR_DEFAULT_PATH,
  PUBSUB_EMULATOR_PACKAGE,
  PUBSUB_EMULATOR_PROJECT_ID,
  pubsubEmulatorProbe,
  startPubSubEmulator,
} from "./pubsub-emulator.js";
export type { BrokerAvailability, BrokerProbe, RequireBrokerOptions } from "./require-broker.js";
export { REQUIRE_BROKERS_ENV, requireBroker, requiredBrokers } from "./require-broker.js";
export type { ServiceHandle, StartServiceOptions } from "./service.js";
export { DEFAULT_SERVICE_ENTRY, startService } from "./service.js";
export type { WaitForOptions } from "./wait.js";
export { deferred, waitFor, withDeadline } from "./wait.js";
