import type { ErrorCode, ServerFrame } from "@soorma/common";
import fc from "fast-check";
import { afterEach, describe, expect, it } from "vitest";
import WebSocket from "ws";
import { FrameClient } from "../gateway/frame-client.js";
import { randomName, startGateway, type TestGateway, testEvent } from "../gateway/harness.js";
import { fuzzMessage } from "./frame-arbitraries.js";
import { captureLogs } from "./support.js";

/** Codes bad input may earn; anything else (internal errors, broker errors, fatal closes) is a bug. */
const BAD_INPUT_CODES: ReadonlySet<ErrorCode> = new Set<ErrorCode>([
  "SOORMA_ERR_BAD_JSON",
  "SOORMA_ERR_FRAME_UNKNOWN_TYPE",
  "SOORMA_ERR_FRAME_INVALID",
  "SOORMA_ERR_ENVELOPE_INVALID",
  "SOORMA_ERR_TOPIC_INVALID",
  "SOORMA_ERR_AGENT_NAME_INVALID",
  "SOORMA_ERR_MESSAGE_TOO_LARGE",
  "SOORMA_ERR_HELLO_REQUIRED",
  "SOORMA_ERR_HELLO_REPEATED",
  "SOORMA_ERR_PROTOCOL_VERSION",
  "SOORMA_ERR_DELIVERY_UNKNOWN",
  "SOORMA_ERR_NOT_SUBSCRIBED",
]);

/** Answers a valid or mutated frame may also get when it happens to be a correct request. */
const ANSWER_TYPES: ReadonlySet<ServerFrame["type"]> = new Set([
  "welcome",
  "subscribed",
  "unsubscribed",
  "published",
  "delivery",
  "error",
]);

const RUNS = 30;

describe("live gateway under random and mutated frames", () => {
  let gateway: TestGateway | undefined;
  const clients: FrameClient[] = [];
  afterEach(async () => {
    await Promise.all(clients.splice(0).map((c) => c.close().catch(() => undefined)));
    await gateway?.close();
    gateway = undefined;
  });

  it(`fuzz - about ${RUNS * 10} random and mutated frames over a real socket get only answers and non-fatal error frames; the gateway stays up and a bystander keeps publishing and receiving`, async () => {
    const logs = captureLogs("error");
    gateway = await startGateway(
      { maxMessageBytes: 4096, limits: { helloTimeoutMs: 120_000 } },
      undefined,
      logs.logger,
    );
    const topic = randomName("t");
    const { client: subscriber } = await FrameClient.open(gateway.wsUrl, { agent_name: randomName("by") });
    clients.push(subscriber);
    await subscriber.subscribe(topic);
    const { client: publisher } = await FrameClient.open(gateway.wsUrl);
    clients.push(publisher);
    // The fuzzing connection never says a planned hello; a mutated frame may turn out to be one.
    const fuzzer = await FrameClient.connect(gateway.wsUrl);
    clients.push(fuzzer);

    let run = 0;
    let checked = 0;
    let sent = 0;
    await fc.assert(
      fc.asyncProperty(fc.array(fuzzMessage, { minLength: 5, maxLength: 15 }), async (messages) => {
        run += 1;
        for (const message of messages) {
          if ("binary" in message) fuzzer.socket.send(message.binary, { binary: true });
          else fuzzer.send(message.text);
          sent += 1;
        }
        // A marker frame every connection state answers with an error naming it: everything sent before it
        // has been handled once its answer is here.
        const marker = `sync-${run}`;
        fuzzer.send({ type: "in_progress", delivery_id: marker });
        await fuzzer.next((f) => f.type === "error" && f.delivery_id === marker);

        for (const frame of fuzzer.received.slice(checked)) {
          expect(ANSWER_TYPES.has(frame.type), `unexpected ${frame.type} frame`).toBe(true);
          if (frame.type === "error") {
            expect(frame.fatal, JSON.stringify(frame)).toBe(false);
            expect(BAD_INPUT_CODES.has(frame.code as ErrorCode), JSON.stringify(frame)).toBe(true);
          }
        }
        checked = fuzzer.received.length;
        expect(fuzzer.socket.readyState).toBe(WebSocket.OPEN);

        // Meanwhile the bystander's own traffic is untouched.
        const { event_id } = await publisher.publish(testEvent(topic, "bystander.event", { data: { run } }));
        const delivery = await subscriber.next("delivery");
        expect(delivery.event.id).toBe(event_id);
        subscriber.send({ type: "ack", delivery_id: delivery.delivery_id });
      }),
      { numRuns: RUNS, endOnFailure: true },
    );

    expect(sent).toBeGreaterThanOrEqual(RUNS * 5);
    expect((await fetch(`${gateway.httpUrl}/health`)).status).toBe(200);
    const { welcome } = await FrameClient.open(gateway.wsUrl).then((opened) => {
      clients.push(opened.client);
      return opened;
    });
    expect(welcome.type).toBe("welcome");
    // No input made the gateway log an unexpected error.
    expect(logs.lines).toEqual([]);
  });
});
