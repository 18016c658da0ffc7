import { BrokerUnavailableError } from "@soorma/common";
import type {
  BrokerAdapter,
  BrokerMessage,
  InboxConsumer,
  InboxKey,
  OpenInboxOptions,
  PullOptions,
} from "../../src/broker/adapter.js";

/** One `pull` call seen by {@link instrument}. */
export interface PullRecord {
  readonly key: InboxKey;
  readonly max: number;
  readonly waitMs: number;
}

/** What the core asked of the broker, recorded by {@link instrument}. */
export interface BrokerCalls {
  readonly pulls: PullRecord[];
  /** Event ids whose broker lease was extended. */
  readonly touches: string[];
  /** Inbox consumers closed. */
  readonly closedConsumers: InboxKey[];
  /** Called at the start of every pull, before the real adapter runs it. */
  onPull?: (record: PullRecord) => void;
  /**
   * Fault injection: this many upcoming pulls reject with `BrokerUnavailableError` before reaching the real
   * adapter (as when the broker connection drops). Counts down.
   */
  failNextPulls: number;
}

/**
 * Wrap a real adapter so a test can see how the dispatch core uses it (every call still goes to the real
 * adapter; nothing is faked).
 */
export function instrument(adapter: BrokerAdapter): { adapter: BrokerAdapter; calls: BrokerCalls } {
  const calls: BrokerCalls = { pulls: [], touches: [], closedConsumers: [], failNextPulls: 0 };
  const wrapMessage = (message: BrokerMessage): BrokerMessage => ({
    envelope: message.envelope,
    attempt: message.attempt,
    ack: () => message.ack(),
    nack: (delayMs) => message.nack(delayMs),
    touch: () => {
      calls.touches.push(message.envelope.id);
      return message.touch();
    },
  });
  const wrapConsumer = (consumer: InboxConsumer): InboxConsumer => ({
    key: consumer.key,
    async pull(max: number, options: PullOptions) {
      const record = { key: consumer.key, max, waitMs: options.waitMs };
      calls.pulls.push(record);
      calls.onPull?.(record);
      if (calls.failNextPulls > 0) {
        calls.failNextPulls -= 1;
        throw new BrokerUnavailableError("injected: broker connection lost");
      }
      return (await consumer.pull(max, options)).map(wrapMessage);
    },
    close() {
      calls.closedConsumers.push(consumer.key);
      return consumer.close();
    },
  });
  const wrapped: BrokerAdapter = {
    kind: adapter.kind,
    capabilities: adapter.capabilities,
    connect: () => adapter.connect(),
    close: () => adapter.close(),
    status: () => adapter.status(),
    publish: (event) => adapter.publish(event),
    ensureInbox: (key) => adapter.ensureInbox(key),
    openInbox: async (key: InboxKey, options: OpenInboxOptions) =>
      wrapConsumer(await adapter.openInbox(key, options)),
    listInboxes: (tenant) => adapter.listInboxes(tenant),
    [Symbol.asyncDispose]: () => adapter.close(),
  };
  return { adapter: wrapped, calls };
}
