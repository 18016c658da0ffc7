import { existsSync } from "node:fs";
import { jetstreamManager } from "@nats-io/jetstream";
import { connect } from "@nats-io/transport-node";
import { ConfigError } from "@soorma/common";
import {
  BrokerBinaryMissingError,
  ChildExitedError,
  findNatsServerBinary,
  type NatsServerHandle,
  requireBroker,
  startNatsServer,
} from "@soorma/test-utils";
import { afterEach, describe, expect, it } from "vitest";

const nats = requireBroker("nats");

/** Names of the streams on `server`. */
async function streamNames(server: NatsServerHandle): Promise<string[]> {
  const nc = await connect({ servers: server.url });
  try {
    const names: string[] = [];
    for await (const name of (await jetstreamManager(nc)).streams.names()) names.push(name);
    return names;
  } finally {
    await nc.close();
  }
}

async function addStream(server: NatsServerHandle, name: string): Promise<void> {
  const nc = await connect({ servers: server.url });
  try {
    await (await jetstreamManager(nc)).streams.add({ name, subjects: [`${name.toLowerCase()}.>`] });
  } finally {
    await nc.close();
  }
}

describe("requireBroker", () => {
  it("requireBroker - a missing broker is skipped with a loud notice, or fails when SOORMA_REQUIRE_BROKERS names it", () => {
    const notices: string[] = [];
    const probe = () => "the binary is not installed";
    const report = (notice: string) => notices.push(notice);
    expect(requireBroker("nats", { probe, env: {}, report })).toEqual({
      available: false,
      reason: "the binary is not installed",
    });
    expect(notices.join("")).toMatch(/SKIPPING the "nats" broker tests: the binary is not installed/);
    expect(
      requireBroker("nats", { probe, env: { SOORMA_REQUIRE_BROKERS: "pubsub" }, report }).available,
    ).toBe(false);
    expect(() =>
      requireBroker("nats", { probe, env: { SOORMA_REQUIRE_BROKERS: "pubsub, NATS" }, report }),
    ).toThrow(ConfigError);
    expect(
      requireBroker("nats", { probe: () => undefined, env: { SOORMA_REQUIRE_BROKERS: "nats" } }),
    ).toEqual({
      available: true,
    });
    expect(notices).toHaveLength(2);
  });
});

describe.skipIf(!nats.available)("nats-server launcher", () => {
  const servers: NatsServerHandle[] = [];
  afterEach(async () => {
    await Promise.all(servers.splice(0).map((server) => server.stop()));
  });

  async function launch(): Promise<NatsServerHandle> {
    const server = await startNatsServer();
    servers.push(server);
    return server;
  }

  it("launcher - starts nats-server -js on loopback ports with a temp store; stop() removes the store", async () => {
    const server = await launch();
    expect(server.url).toBe(`nats://127.0.0.1:${server.port}`);
    expect(server.port).not.toBe(4222);
    const health = await fetch(`http://127.0.0.1:${server.monitorPort}/healthz`);
    expect(health.status).toBe(200);
    await addStream(server, "LAUNCHER");
    expect(existsSync(server.storeDir)).toBe(true);
    await server.stop();
    expect(server.running).toBe(false);
    expect(existsSync(server.storeDir)).toBe(false);
  });

  it("launcher - restart() keeps the store and the port; restart({ keepStore: false }) starts empty", async () => {
    const server = await launch();
    await addStream(server, "KEPT");
    const firstPid = server.child.pid;
    await server.kill("SIGKILL");
    expect(server.running).toBe(false);
    await server.restart();
    expect(server.child.pid).not.toBe(firstPid);
    expect(await streamNames(server)).toEqual(["KEPT"]);
    await server.restart({ keepStore: false });
    expect(await streamNames(server)).toEqual([]);
  });

  it("launcher - a server that exits at start (port taken) rejects with its output instead of waiting", async () => {
    const first = await launch();
    const startedAt = Date.now();
    const error = await startNatsServer({ port: first.port, startTimeoutMs: 20_000 }).catch(
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(ChildExitedError);
    expect(String((error as Error).message)).toMatch(/address already in use/i);
    expect(Date.now() - startedAt).toBeLessThan(10_000);
  });

  it("launcher - a missing binary fails with BrokerBinaryMissingError naming the Debian package", async () => {
    await expect(startNatsServer({ binary: "/nonexistent/nats-server" })).rejects.toBeInstanceOf(
      BrokerBinaryMissingError,
    );
    await expect(startNatsServer({ binary: "/nonexistent/nats-server" })).rejects.toThrow(
      /apt-get install nats-server/,
    );
    expect(findNatsServerBinary({ NATS_SERVER_BIN: "/nonexistent/nats-server" })).toBeUndefined();
    expect(findNatsServerBinary({ PATH: "" })).toMatch(/nats-server$/);
  });
});
