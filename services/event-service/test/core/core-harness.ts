import { randomBytes } from "node:crypto";
import { type DeliveryFrame, type EventEnvelope, EventEnvelopeSchema } from "@soorma/common";
import type { BrokerAdapter } from "../../src/broker/adapter.js";
import { createMemoryAdapter } from "../../src/broker/memory.js";
import { Dispatcher, type DispatcherOptions } from "../../src/core/dispatcher.js";
import { silentLogger } from "../../src/core/logger.js";
import type { Member } from "../../src/core/member.js";
import { type BrokerCalls, instrument } from "./instrumented-adapter.js";

export const TENANT = "default";

/** A dispatcher on a real, connected memory adapter (instrumented), for one test. */
export interface CoreFixture {
  readonly dispatcher: Dispatcher;
  readonly adapter: BrokerAdapter;
  readonly calls: BrokerCalls;
  /** Deliveries sent to each member, by connection id. */
  readonly sent: Map<string, DeliveryFrame[]>;
  join(options: {
    id?: string;
    group: string;
    prefetch: number;
    onDelivery?: (d: DeliveryFrame) => void;
  }): Member;
  publish(topic: string, type: string, extra?: Partial<EventEnvelope>): Promise<EventEnvelope>;
  pending(group: string, topic: string): Promise<number | undefined>;
  close(): Promise<void>;
}

/** Build a {@link CoreFixture}; close it in `afterEach`. */
export async function coreFixture(options: Partial<DispatcherOptions> = {}): Promise<CoreFixture> {
  const memory = createMemoryAdapter();
  await memory.connect();
  const { adapter, calls } = instrument(memory);
  const dispatcher = new Dispatcher({ adapter, logger: silentLogger, pullWaitMs: 100, ...options });
  const sent = new Map<string, DeliveryFrame[]>();
  let counter = 0;
  return {
    dispatcher,
    adapter,
    calls,
    sent,
    join({ id, group, prefetch, onDelivery }) {
      counter += 1;
      const connectionId = id ?? `m${counter}`;
      sent.set(connectionId, []);
      return dispatcher.addMember({
        connectionId,
        agentId: connectionId,
        group,
        tenant: TENANT,
        prefetch,
        send: (frame) => {
          sent.get(connectionId)!.push(frame);
          onDelivery?.(frame);
        },
      });
    },
    async publish(topic, type, extra = {}) {
      const event = EventEnvelopeSchema.parse({
        source: "core-test",
        type,
        topic,
        platform_tenant_id: TENANT,
        ...extra,
      });
      await adapter.publish(event);
      return event;
    },
    async pending(group, topic) {
      const inboxes = await adapter.listInboxes(TENANT);
      return inboxes.find((i) => i.key.group === group && i.key.topic === topic)?.pending;
    },
    async close() {
      await dispatcher.close();
      await adapter.close();
    },
  };
}

/** A random topic or group name. */
export function randomName(prefix: string): string {
  return `${prefix}-${randomBytes(4).toString("hex")}`;
}
