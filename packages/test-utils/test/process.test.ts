import { fileURLToPath } from "node:url";
import { afterEach, describe, expect, it } from "vitest";
import { ChildExitedError, type ChildHandle, spawnChild } from "../src/process.js";

const speaker = fileURLToPath(new URL("./fixtures/speaker.mjs", import.meta.url));
const children: ChildHandle[] = [];

function start(env: Record<string, string> = {}): ChildHandle {
  const child = spawnChild({ args: [speaker], env, name: "speaker" });
  children.push(child);
  return child;
}

afterEach(async () => {
  await Promise.all(children.splice(0).map((child) => child.kill("SIGKILL")));
});

describe("spawnChild", () => {
  it("waitForLine resolves with a JSON line printed now and one printed later", async () => {
    const child = start();
    const started = await child.waitForLine((line) => line.event === "started");
    expect(started.pid).toBe(child.pid);
    const later = await child.waitForLine((line) => line.event === "later", { timeoutMs: 5_000 });
    expect(later).toEqual({ event: "later" });
    expect(child.tail()).toContain("not json");
  });

  it("waitForLine rejects with ChildExitedError and the output tail when the process exits first", async () => {
    const child = start({ SPEAKER_EXIT_CODE: "3" });
    const error = await child.waitForLine((line) => line.event === "never").catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ChildExitedError);
    expect((error as ChildExitedError).exit.code).toBe(3);
    expect((error as ChildExitedError).message).toContain('"event":"started"');
  });

  it("waitForLine rejects with SOORMA_ERR_TIMEOUT at its deadline", async () => {
    const child = start();
    const error = await child
      .waitForLine((line) => line.event === "never", { timeoutMs: 300 })
      .catch((e: unknown) => e);
    expect((error as { code?: string }).code).toBe("SOORMA_ERR_TIMEOUT");
  });

  it("since skips lines printed before the mark", async () => {
    const child = start();
    await child.waitForLine((line) => line.event === "later", { timeoutMs: 5_000 });
    const mark = child.output.json.length;
    const error = await child
      .waitForLine((line) => line.event === "started", { since: mark, timeoutMs: 200 })
      .catch((e: unknown) => e);
    expect((error as { code?: string }).code).toBe("SOORMA_ERR_TIMEOUT");
  });

  it("kill(SIGKILL) ends the process and reports the signal; stop() afterwards is a no-op", async () => {
    const child = start();
    await child.waitForLine((line) => line.event === "started");
    const exit = await child.kill("SIGKILL");
    expect(exit.signal).toBe("SIGKILL");
    expect(child.running).toBe(false);
    expect(await child.stop()).toEqual(exit);
  });

  it("a command that does not exist resolves exited with the spawn error", async () => {
    const child = spawnChild({ command: "/nonexistent/soorma-binary", args: [] });
    const exit = await child.exited;
    expect(exit.error).toBeInstanceOf(Error);
    expect(child.running).toBe(false);
  });
});
