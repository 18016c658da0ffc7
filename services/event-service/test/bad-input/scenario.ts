import { Agent, request as httpRequest } from "node:http";
import type { ErrorFrame } from "@soorma/common";
import { expect } from "vitest";
import type { GatewayConfig } from "../../src/config.js";
import { FrameClient } from "../gateway/frame-client.js";
import { randomName, startGateway, type TestGateway, testEvent } from "../gateway/harness.js";

/**
 * The setting every bad-input test starts from: a gateway, a consumer subscribed to a topic, an event already
 * accepted for it, the client that will misbehave and an innocent bystander connection.
 */
export interface BadInputScenario {
  readonly gateway: TestGateway;
  readonly topic: string;
  /** Subscribed to `topic`; never misbehaves. */
  readonly consumer: FrameClient;
  /** The connection that sends the bad input (already said hello unless asked otherwise). */
  readonly offender: FrameClient;
  /** Another connection that must not notice anything. */
  readonly bystander: FrameClient;
  /** Id of the event accepted before the bad input. */
  readonly acceptedBefore: string;
  close(): Promise<void>;
}

/** Options of {@link badInputScenario}. */
export interface ScenarioOptions {
  config?: Partial<GatewayConfig>;
  /** Let the offender say hello first. @default true */
  helloOffender?: boolean;
}

/** Set up a {@link BadInputScenario}; call `close()` in `finally`. */
export async function badInputScenario(options: ScenarioOptions = {}): Promise<BadInputScenario> {
  const gateway = await startGateway(options.config);
  const topic = randomName("t");
  const { client: consumer } = await FrameClient.open(gateway.wsUrl, { agent_name: randomName("consumer") });
  await consumer.subscribe(topic);
  const offender = await FrameClient.connect(gateway.wsUrl);
  if (options.helloOffender ?? true) await offender.hello({ agent_name: randomName("offender") });
  const { client: bystander } = await FrameClient.open(gateway.wsUrl, {
    agent_name: randomName("bystander"),
  });
  const accepted = await bystander.publish(testEvent(topic, "before.bad.input"));
  return {
    gateway,
    topic,
    consumer,
    offender,
    bystander,
    acceptedBefore: accepted.event_id,
    async close() {
      await Promise.all([consumer, offender, bystander].map((c) => c.close().catch(() => undefined)));
      await gateway.close();
    },
  };
}

/** Wait for the offender's next error frame and check its code (and request/delivery id when given). */
export async function expectErrorFrame(
  client: FrameClient,
  code: string,
  ids: { req_id?: string; delivery_id?: string } = {},
): Promise<ErrorFrame> {
  const frame = await client.next("error");
  expect(frame).toMatchObject({ type: "error", code, fatal: false, ...ids });
  expect(frame.message.length).toBeGreaterThan(0);
  return frame;
}

/**
 * After the bad input: the offender's own connection still publishes (unless `offenderCanPublish` is false,
 * e.g. it was closed), the bystander still publishes, and the consumer receives the event accepted before,
 * `alsoAccepted` (events the test published itself) and everything published here — each exactly once.
 */
export async function expectStillHealthy(
  scenario: BadInputScenario,
  options: { offenderCanPublish?: boolean; alsoAccepted?: readonly string[] } = {},
): Promise<void> {
  const expected = [scenario.acceptedBefore, ...(options.alsoAccepted ?? [])];
  if (options.offenderCanPublish ?? true) {
    const own = await scenario.offender.publish(testEvent(scenario.topic, "after.bad.input"));
    expect(own.duplicate).toBe(false);
    expected.push(own.event_id);
    expect(scenario.offender.socket.readyState).toBe(scenario.offender.socket.OPEN);
  }
  const other = await scenario.bystander.publish(testEvent(scenario.topic, "bystander.after"));
  expected.push(other.event_id);
  const deliveries = await scenario.consumer.deliveries(expected.length);
  for (const delivery of deliveries)
    scenario.consumer.send({ type: "ack", delivery_id: delivery.delivery_id });
  expect(deliveries.map((d) => d.event.id).sort()).toEqual([...expected].sort());
  expect(scenario.bystander.received.some((f) => f.type === "error")).toBe(false);
  expect(scenario.consumer.received.some((f) => f.type === "error")).toBe(false);
}

/** An HTTP response read over a real socket. */
export interface HttpAnswer {
  readonly status: number;
  readonly body: unknown;
  /** True when the request went over a kept-alive connection used before. */
  readonly reusedSocket: boolean;
}

/** POST raw `body` to `url` through `agent` (keep-alive, one socket, so requests share a connection). */
export function postRaw(agent: Agent, url: string, body: string | Buffer): Promise<HttpAnswer> {
  return new Promise((resolve, reject) => {
    const request = httpRequest(
      url,
      { method: "POST", agent, headers: { "content-type": "application/json" } },
      (response) => {
        const chunks: Buffer[] = [];
        response.on("data", (chunk: Buffer) => chunks.push(chunk));
        response.on("end", () => {
          const text = Buffer.concat(chunks).toString("utf8");
          resolve({
            status: response.statusCode ?? 0,
            body: JSON.parse(text),
            reusedSocket: request.reusedSocket,
          });
        });
      },
    );
    request.on("error", reject);
    request.end(body);
  });
}

/** A keep-alive agent with a single socket. */
export function singleSocketAgent(): Agent {
  return new Agent({ keepAlive: true, maxSockets: 1 });
}
