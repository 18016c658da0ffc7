import {
  DiscardPolicy,
  JetStreamApiCodes,
  JetStreamApiError,
  type JetStreamManager,
  RetentionPolicy,
  StorageType,
  type StreamConfig,
  type StreamInfo,
} from "@nats-io/jetstream";

/** How stored events are kept; see docs/adapters/nats.md "Retention". */
export type NatsRetention = "interest" | "limits";

/** Where the server keeps the stream. `memory` does not survive a server restart. */
export type NatsStorage = "file" | "memory";

/** The stream this adapter stores every event in. */
export interface StreamSettings {
  readonly name: string;
  /** Subjects bound to the stream (`<prefix>.>`). */
  readonly subject: string;
  readonly retention: NatsRetention;
  readonly storage: NatsStorage;
  /** Oldest event kept, in ms; 0 = no age limit. */
  readonly maxAgeMs: number;
  /** Most bytes kept; -1 = no limit. */
  readonly maxBytes: number;
  /** Window in which a repeated `Nats-Msg-Id` is recognised as a duplicate, in ms. */
  readonly duplicateWindowMs: number;
  /** Copies kept in a JetStream cluster. */
  readonly replicas: number;
}

/** Something that can report a stream that differs from the settings in ways that cannot be changed. */
export interface StreamWarnings {
  warn(fields: object, msg: string): void;
}

const MS = 1_000_000; // nanoseconds per millisecond: JetStream durations are nanoseconds

/**
 * With interest retention an event stays only until every inbox that wants it acked it, and a full stream
 * refuses new events (the publisher gets an error and retries) rather than silently dropping undelivered ones.
 * With limits retention events stay until age or size limits remove the oldest, delivered or not.
 */
function discardFor(retention: NatsRetention) {
  return retention === "interest" ? DiscardPolicy.New : DiscardPolicy.Old;
}

function desiredConfig(settings: StreamSettings): StreamConfig {
  return {
    name: settings.name,
    subjects: [settings.subject],
    retention: settings.retention === "interest" ? RetentionPolicy.Interest : RetentionPolicy.Limits,
    storage: settings.storage === "file" ? StorageType.File : StorageType.Memory,
    discard: discardFor(settings.retention),
    max_age: settings.maxAgeMs * MS,
    max_bytes: settings.maxBytes,
    duplicate_window: settings.duplicateWindowMs * MS,
    num_replicas: settings.replicas,
  } as StreamConfig;
}

function isApiError(error: unknown, code: number): boolean {
  return error instanceof JetStreamApiError && error.code === code;
}

async function streamInfo(jsm: JetStreamManager, name: string): Promise<StreamInfo | undefined> {
  try {
    return await jsm.streams.info(name);
  } catch (error) {
    if (isApiError(error, JetStreamApiCodes.StreamNotFound)) return undefined;
    throw error;
  }
}

/**
 * Create the stream, or bring an existing one in line with the settings. Limits (age, size, duplicate window,
 * discard) are updated in place; retention and storage cannot change on an existing stream, so a mismatch is
 * only reported. Safe to run from several gateway replicas at once.
 */
export async function ensureStream(
  jsm: JetStreamManager,
  settings: StreamSettings,
  warnings: StreamWarnings,
): Promise<void> {
  const desired = desiredConfig(settings);
  let info = await streamInfo(jsm, settings.name);
  if (info === undefined) {
    try {
      await jsm.streams.add(desired);
      return;
    } catch (error) {
      // Another replica may have created it between our info and add.
      info = await streamInfo(jsm, settings.name);
      if (info === undefined) throw error;
    }
  }
  const current = info.config;
  if (current.retention !== desired.retention || current.storage !== desired.storage) {
    warnings.warn(
      {
        stream: settings.name,
        retention: { configured: desired.retention, actual: current.retention },
        storage: { configured: desired.storage, actual: current.storage },
      },
      "the NATS stream exists with another retention or storage, which cannot be changed in place; keeping it",
    );
  }
  const subjects = current.subjects ?? [];
  const needsUpdate =
    !subjects.includes(settings.subject) ||
    current.max_age !== desired.max_age ||
    current.max_bytes !== desired.max_bytes ||
    current.duplicate_window !== desired.duplicate_window ||
    current.discard !== desired.discard;
  if (!needsUpdate) return;
  await jsm.streams.update(settings.name, {
    ...current,
    subjects: subjects.includes(settings.subject) ? subjects : [...subjects, settings.subject],
    max_age: desired.max_age,
    max_bytes: desired.max_bytes,
    duplicate_window: desired.duplicate_window,
    discard: desired.discard,
  });
}
