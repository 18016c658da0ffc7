import { connect } from "node:net";
import {
  ChildExitedError,
  locatePubSubEmulator,
  PUBSUB_EMULATOR_BIN_ENV,
  type PubSubEmulatorHandle,
  startPubSubEmulator,
} from "@soorma/test-utils";
import { afterEach, describe, expect, it } from "vitest";
import { pubsubAvailability, pubsubSuiteTitle, unique, withPubSubClient } from "./pubsub-fixture.js";

/** The emulator launcher of @soorma/test-utils, against the real emulator. */
describe.skipIf(!pubsubAvailability.available)(pubsubSuiteTitle("pubsub emulator launcher"), () => {
  const started: PubSubEmulatorHandle[] = [];
  afterEach(async () => {
    await Promise.all(started.splice(0).map((emulator) => emulator.stop()));
  });

  it("launcher - starts on a free loopback port and hands out the env a Pub/Sub process needs", async () => {
    const emulator = await startPubSubEmulator();
    started.push(emulator);
    expect(emulator.host).toBe(`127.0.0.1:${emulator.port}`);
    expect(emulator.env).toEqual({
      PUBSUB_EMULATOR_HOST: emulator.host,
      SOORMA_PUBSUB_PROJECT_ID: emulator.projectId,
      METADATA_SERVER_DETECTION: "none",
    });
    const name = unique("launcher");
    await withPubSubClient(emulator, (client) => client.createTopic(name));
    expect(await topicNames(emulator)).toEqual([`projects/${emulator.projectId}/topics/${name}`]);
  });

  it("launcher - restart keeps the port and the new emulator starts empty", async () => {
    const emulator = await startPubSubEmulator();
    started.push(emulator);
    await withPubSubClient(emulator, (client) => client.createTopic(unique("before-restart")));
    const port = emulator.port;
    await emulator.restart();
    expect(emulator.port).toBe(port);
    expect(emulator.running).toBe(true);
    expect(await topicNames(emulator)).toEqual([]);
  });

  it("launcher - stop ends the process and frees the port", async () => {
    const emulator = await startPubSubEmulator();
    const exit = await emulator.stop();
    expect(emulator.running).toBe(false);
    expect(exit.code !== null || exit.signal !== null).toBe(true);
    await expect(canConnect(emulator.port)).resolves.toBe(false);
  });
});

describe("pubsub emulator launcher - missing or broken emulator", () => {
  it("locate - PUBSUB_EMULATOR_BIN naming a missing file is reported as the reason", () => {
    const location = locatePubSubEmulator({
      ...process.env,
      [PUBSUB_EMULATOR_BIN_ENV]: "/nonexistent/emulator",
    });
    expect(location).toEqual({
      found: false,
      reason: `${PUBSUB_EMULATOR_BIN_ENV}=/nonexistent/emulator is not an executable file`,
    });
  });

  it("launcher - a launcher that exits at once fails fast with ChildExitedError, not a timeout", async () => {
    const failing = startPubSubEmulator({ binary: "/bin/false", readyTimeoutMs: 20_000 });
    await expect(failing).rejects.toBeInstanceOf(ChildExitedError);
  });
});

async function topicNames(emulator: PubSubEmulatorHandle): Promise<string[]> {
  return withPubSubClient(emulator, async (client) =>
    (await client.getTopics())[0].map((topic) => topic.name),
  );
}

function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: "127.0.0.1", port });
    socket.once("connect", () => {
      socket.destroy();
      resolve(true);
    });
    socket.once("error", () => resolve(false));
  });
}
