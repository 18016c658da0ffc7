import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type ServiceHandle, startService } from "@soorma/test-utils";
import { afterEach, describe, expect, it } from "vitest";
import { loadConfig } from "../../src/config.js";
import { signToken } from "../auth/jwt-helpers.js";
import { FrameClient } from "../gateway/frame-client.js";
import { randomName, testEvent } from "../gateway/harness.js";
import { bearer, expectFatal, makeApiKeys, refusedUpgrade } from "./support.js";

const SECRET = "a-test-secret-that-is-long-enough-0123456789";

describe("security settings from the environment", () => {
  const cleanups: Array<() => Promise<unknown>> = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  it("config - loadConfig reads the auth and limits sections from SOORMA_* variables", () => {
    const config = loadConfig({
      SOORMA_API_KEYS_FILE: "/etc/soorma/keys.json",
      SOORMA_JWT_SECRET: SECRET,
      SOORMA_JWT_AUDIENCE: "a,b",
      SOORMA_MAX_FRAMES_PER_SECOND: "50",
      SOORMA_HELLO_TIMEOUT_MS: "2500",
    });
    expect(config.auth).toMatchObject({
      mode: "auto",
      apiKeysFile: "/etc/soorma/keys.json",
      jwt: { secret: SECRET, audience: ["a", "b"], clockToleranceSec: 5 },
    });
    expect(config.limits).toMatchObject({ maxFramesPerSecond: 50, helloTimeoutMs: 2500, maxPrefetch: 1000 });
  });

  it("config - a bad limit names its variable; a bad auth value too", () => {
    expect(() => loadConfig({ SOORMA_MAX_PREFETCH: "5000" })).toThrow(/SOORMA_MAX_PREFETCH/);
    expect(() => loadConfig({ SOORMA_JWT_REQUIRE_EXPIRY: "maybe" })).toThrow(/SOORMA_JWT_REQUIRE_EXPIRY/);
  });

  it("server process - keys from SOORMA_API_KEYS_FILE and a JWT secret secure it; secrets never reach its log", async () => {
    const dir = await mkdtemp(join(tmpdir(), "soorma-keys-"));
    cleanups.push(() => rm(dir, { recursive: true, force: true }));
    const { keys, inline } = makeApiKeys([{ id: "acme", tenant: "acme" }]);
    const keyFile = join(dir, "keys.json");
    await writeFile(keyFile, inline);
    const service: ServiceHandle = await startService({
      args: ["--broker", "memory"],
      env: { SOORMA_API_KEYS_FILE: keyFile, SOORMA_JWT_SECRET: SECRET },
    });
    cleanups.push(() => service.stop());

    const anonymous = await FrameClient.connect(service.url);
    cleanups.push(() => anonymous.close().catch(() => undefined));
    anonymous.sendHello();
    await expectFatal(anonymous, "SOORMA_ERR_UNAUTHENTICATED", 4401);
    expect((await refusedUpgrade(service.url, bearer(`soorma_${"z".repeat(43)}`))).status).toBe(401);

    const topic = randomName("t");
    const { client } = await FrameClient.open(service.url, {}, { headers: bearer(keys.acme!) });
    cleanups.push(() => client.close());
    await client.subscribe(topic);
    const token = await signToken(new TextEncoder().encode(SECRET), { soorma_tenant: "acme" });
    const { client: viaToken } = await FrameClient.open(service.url, {}, { headers: bearer(token) });
    cleanups.push(() => viaToken.close());
    const { event_id } = await viaToken.publish(testEvent(topic));
    expect((await client.next("delivery")).event.id).toBe(event_id);

    const settings = await service.child.waitForLine((line) => line.msg === "security settings");
    expect(settings).toMatchObject({ authMode: "secured", authMethods: ["api-key", "jwt"] });
    const output = service.logs(400);
    expect(output).not.toContain(SECRET);
    expect(output).not.toContain(keys.acme!);
  });
});
