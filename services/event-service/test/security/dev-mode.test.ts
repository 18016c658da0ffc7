import { type ChildHandle, DEFAULT_SERVICE_ENTRY, spawnChild, withDeadline } from "@soorma/test-utils";
import { afterEach, describe, expect, it } from "vitest";
import { buildApp } from "../../src/app.js";
import { FrameClient } from "../gateway/frame-client.js";
import { randomName, startGateway, type TestGateway, testEvent } from "../gateway/harness.js";
import { captureLogs, withHttpHelpers } from "./support.js";

/**
 * An address that is not loopback and not assigned to this machine (TEST-NET-1, RFC 5737): a gateway that
 * wrongly tried to listen there could not, so these tests never open a port beyond loopback.
 */
const NON_LOOPBACK = "192.0.2.10";

describe("dev mode (no credentials configured)", () => {
  let gateway: TestGateway | undefined;
  const children: ChildHandle[] = [];
  const clients: FrameClient[] = [];
  afterEach(async () => {
    await Promise.all(clients.splice(0).map((c) => c.close().catch(() => undefined)));
    await gateway?.close();
    gateway = undefined;
    await Promise.all(children.splice(0).map((child) => child.kill("SIGKILL")));
  });

  it("dev mode - on loopback the gateway runs open, logs a loud warning at warn level, and every caller is the default tenant", async () => {
    const logs = captureLogs("info");
    gateway = await startGateway({ defaultTenant: "sandbox" }, undefined, logs.logger);
    const warning = logs.lines.find((line) => line.level === 40);
    expect(warning?.msg).toContain("AUTHENTICATION IS OFF");
    expect(warning?.msg).toContain('"sandbox"');
    const settings = logs.lines.find((line) => line.msg === "security settings");
    expect(settings).toMatchObject({ authMode: "open", authMethods: [] });

    const topic = randomName("t");
    const { client } = await FrameClient.open(gateway.wsUrl, { agent_name: randomName("g") });
    clients.push(client);
    await client.subscribe(topic);
    const http = withHttpHelpers(gateway);
    // Credentials are not needed, and a forged one changes nothing.
    const answer = await http.publishHttp(testEvent(topic, "x.y", { platform_tenant_id: "acme" }), {
      authorization: "Bearer whatever",
    });
    expect(answer.status).toBe(200);
    expect((await client.next("delivery")).event.platform_tenant_id).toBe("sandbox");
    expect((await http.adminGroups()).status).toBe(200);
  });

  it("dev mode - on a non-loopback address without credentials the server process refuses to start: exit 1, SOORMA_ERR_CONFIG_INVALID", async () => {
    const child = spawnChild({
      args: [DEFAULT_SERVICE_ENTRY, "--port", "0", "--broker", "memory"],
      env: { SOORMA_HOST: NON_LOOPBACK, SOORMA_LOG_LEVEL: "info" },
      name: "gateway",
    });
    children.push(child);
    const exit = await withDeadline(child.exited, 20_000, "the gateway to exit");
    expect(exit.code).toBe(1);
    const failure = await child.waitForLine((line) => line.msg === "startup failed", { timeoutMs: 1_000 });
    expect(failure.code).toBe("SOORMA_ERR_CONFIG_INVALID");
    expect(String(failure.error)).toContain("refusing to start");
    expect(child.tail()).not.toContain('"msg":"listening"');
  });

  it("dev mode - the same check in buildApp: a non-loopback host, or SOORMA_AUTH_MODE=secured, without credentials is a ConfigError", async () => {
    await expect(buildApp({ config: { broker: "memory", host: NON_LOOPBACK } })).rejects.toMatchObject({
      code: "SOORMA_ERR_CONFIG_INVALID",
    });
    await expect(buildApp({ config: { broker: "memory", host: "0.0.0.0" } })).rejects.toMatchObject({
      code: "SOORMA_ERR_CONFIG_INVALID",
    });
    await expect(buildApp({ config: { broker: "memory", auth: { mode: "secured" } } })).rejects.toMatchObject(
      { code: "SOORMA_ERR_CONFIG_INVALID" },
    );
  });

  it("dev mode - SOORMA_INSECURE_ALLOW_OPEN_NETWORK lets a process start open on a non-loopback host only with a louder warning", async () => {
    const logs = captureLogs("warn");
    const app = await buildApp({
      config: { broker: "memory", host: NON_LOOPBACK, auth: { insecureAllowOpenNetwork: true } },
      logger: logs.logger,
    });
    try {
      expect(app.soorma.authenticator.mode).toBe("open");
      const warning = logs.lines.find((line) => line.level === 40);
      expect(warning?.msg).toContain("AUTHENTICATION IS OFF ON A NETWORK ADDRESS");
    } finally {
      await app.close();
    }
  });
});
