import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { ChildExitedError } from "../src/process.js";
import { startService } from "../src/service.js";

const fakeService = fileURLToPath(new URL("./fixtures/fake-service.mjs", import.meta.url));

describe("startService", () => {
  it("resolves once the process logged listening and /ready answers 200, with ws and http URLs", async () => {
    const service = await startService({ entry: fakeService, env: { FAKE_READY_AFTER_MS: "300" } });
    try {
      expect(service.url).toBe(`ws://127.0.0.1:${service.port}`);
      expect(service.httpUrl).toBe(`http://127.0.0.1:${service.port}`);
      const ready = await fetch(`${service.httpUrl}/ready`);
      expect(ready.status).toBe(200);
      expect(service.env.METADATA_SERVER_DETECTION).toBe("none");
    } finally {
      await service.stop();
    }
  });

  it("restart after SIGKILL comes back on the same port with the same env, as a new process", async () => {
    const service = await startService({ entry: fakeService, env: { FAKE_ECHO: "kept" } });
    try {
      const before = (await (await fetch(`${service.httpUrl}/`)).json()) as { pid: number; env: string };
      const exit = await service.kill("SIGKILL");
      expect(exit.signal).toBe("SIGKILL");
      expect(service.running).toBe(false);
      await service.restart();
      const after = (await (await fetch(`${service.httpUrl}/`)).json()) as { pid: number; env: string };
      expect(after.env).toBe("kept");
      expect(after.pid).not.toBe(before.pid);
      expect(service.child.pid).toBe(after.pid);
    } finally {
      await service.stop();
    }
  });

  it("stop() sends SIGTERM first so the process can drain", async () => {
    const service = await startService({ entry: fakeService });
    const exit = await service.stop();
    expect(exit.code).toBe(0);
    expect(service.logs()).toContain('"msg":"draining"');
  });

  it("an early exit rejects with ChildExitedError carrying the process's stderr", async () => {
    const error = await startService({
      entry: fakeService,
      env: { FAKE_EXIT_CODE: "2", FAKE_EXIT_MESSAGE: "broker config is wrong" },
    }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ChildExitedError);
    expect((error as Error).message).toContain("broker config is wrong");
  });

  it("a missing entry rejects with SOORMA_ERR_CONFIG_INVALID before spawning", async () => {
    const error = await startService({ entry: "/nonexistent/server.js" }).catch((e: unknown) => e);
    expect((error as { code?: string }).code).toBe("SOORMA_ERR_CONFIG_INVALID");
  });
});
