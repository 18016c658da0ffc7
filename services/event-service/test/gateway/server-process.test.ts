import { existsSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type ChildHandle, DEFAULT_SERVICE_ENTRY, spawnChild } from "@soorma/test-utils";
import { afterEach, describe, expect, it } from "vitest";
import { FrameClient } from "./frame-client.js";
import { randomName, testEvent } from "./harness.js";

/**
 * The real process entry (`dist/server.js`, built before tests run): how operators and the other test suites
 * start the gateway.
 */
describe("server process", () => {
  const children: ChildHandle[] = [];
  const dirs: string[] = [];
  afterEach(async () => {
    await Promise.all(children.splice(0).map((child) => child.kill("SIGKILL")));
    await Promise.all(dirs.splice(0).map((dir) => rm(dir, { recursive: true, force: true })));
  });

  function start(args: string[], env: Record<string, string> = {}): ChildHandle {
    const child = spawnChild({
      args: [DEFAULT_SERVICE_ENTRY, ...args],
      env: { SOORMA_HOST: "127.0.0.1", SOORMA_LOG_LEVEL: "info", ...env },
      name: "gateway",
    });
    children.push(child);
    return child;
  }

  async function listeningUrl(child: ChildHandle): Promise<string> {
    const line = await child.waitForLine((l) => l.msg === "listening" && typeof l.url === "string", {
      timeoutMs: 20_000,
    });
    return String(line.url);
  }

  it("server - with --port 0 it logs the real URL, and SIGTERM drains the members and exits 0", async () => {
    const child = start(["--port", "0", "--broker", "memory"]);
    const url = await listeningUrl(child);
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(url.endsWith(":0")).toBe(false);
    const ready = await fetch(`${url}/ready`);
    expect(await ready.json()).toEqual({ status: "ready", broker: { kind: "memory", state: "ready" } });

    const wsUrl = url.replace(/^http/, "ws");
    const { client } = await FrameClient.open(wsUrl, { agent_name: randomName("g") });
    const topic = randomName("t");
    await client.subscribe(topic);
    await client.publish(testEvent(topic));
    const delivery = await client.next("delivery");

    process.kill(child.pid!, "SIGTERM");
    const draining = await client.next("draining");
    expect(draining.deadline_ms).toBe(15_000);
    client.send({ type: "ack", delivery_id: delivery.delivery_id });
    expect((await client.closed).code).toBe(1001);
    const exit = await child.exited;
    expect(exit).toMatchObject({ code: 0, signal: null });
    expect(child.output.json.some((l) => l.msg === "drained")).toBe(true);
  });

  it("server - the default sqlite broker creates a missing data directory", async () => {
    const base = await mkdtemp(join(tmpdir(), "soorma-server-"));
    dirs.push(base);
    const dataDir = join(base, "nested", "data");
    const child = start(["--port", "0"], { SOORMA_DATA_DIR: dataDir });
    const url = await listeningUrl(child);
    const ready = await fetch(`${url}/ready`);
    expect(await ready.json()).toMatchObject({ broker: { kind: "sqlite", state: "ready" } });
    expect(existsSync(join(dataDir, "events.db"))).toBe(true);
    process.kill(child.pid!, "SIGINT");
    expect(await child.exited).toMatchObject({ code: 0 });
  });

  it("server - an invalid setting exits 1 and logs SOORMA_ERR_CONFIG_INVALID naming the setting", async () => {
    const child = start(["--port", "70000"]);
    const line = await child.waitForLine((l) => l.code === "SOORMA_ERR_CONFIG_INVALID", {
      timeoutMs: 10_000,
    });
    expect(String(line.error)).toContain("SOORMA_PORT / --port");
    expect(await child.exited).toMatchObject({ code: 1 });
  });
});
