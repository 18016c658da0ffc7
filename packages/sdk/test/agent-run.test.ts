import { createServer } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { Agent } from "../src/agent/agent.js";
import { createConsoleLogger } from "../src/logger.js";

afterEach(() => {
  process.exitCode = undefined;
});

async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (address === null || typeof address === "string") throw new Error("no port");
  return address.port;
}

describe("agent run", () => {
  it("start failure - run() logs, sets a non-zero exit code, resolves and leaves no signal listeners", async () => {
    const before = process.listenerCount("SIGTERM");
    const errors: string[] = [];
    const logger = { ...createConsoleLogger("silent"), error: (msg: string) => void errors.push(msg) };
    const agent = new Agent({
      name: "lonely",
      url: `ws://127.0.0.1:${await closedPort()}`,
      requestTimeoutMs: 200,
      reconnect: { initialDelayMs: 5, maxDelayMs: 20 },
      logger,
    });
    agent.onEvent("anything", () => {});
    await agent.run();
    expect(process.exitCode).toBe(1);
    expect(errors).toContain("agent failed to start");
    expect(agent.client.status).toBe("closed");
    expect(process.listenerCount("SIGTERM")).toBe(before);
  });

  it("stop before start - start() afterwards rejects with ClientClosedError; stop is idempotent", async () => {
    const agent = new Agent({
      name: "short-lived",
      url: "ws://127.0.0.1:9",
      logger: createConsoleLogger("silent"),
    });
    const first = agent.stop();
    expect(agent.stop()).toBe(first);
    await first;
    await expect(agent.start()).rejects.toMatchObject({ code: "SOORMA_ERR_CLIENT_CLOSED" });
  });
});
