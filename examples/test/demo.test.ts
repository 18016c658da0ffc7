import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

const demoEntry = fileURLToPath(new URL("../dist/demo.js", import.meta.url));

/** Run the built demo as `pnpm demo` does and collect its output and exit code. */
function runDemo(): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [demoEntry], { stdio: ["ignore", "pipe", "pipe"] });
    let output = "";
    child.stdout.on("data", (chunk: Buffer) => {
      output += chunk.toString();
    });
    child.stderr.on("data", (chunk: Buffer) => {
      output += chunk.toString();
    });
    child.once("error", reject);
    child.once("close", (code) => resolve({ code, output }));
  });
}

describe("pnpm demo", () => {
  it("demo - shows store-and-forward, broadcast and load balancing holding on the embedded default", async () => {
    const { code, output } = await runDemo();
    expect(output, output).toContain("embedded SQLite");
    for (const pattern of ["store-and-forward", "broadcast", "load balancing"]) {
      expect(output).toMatch(new RegExp(`PASS\\s+${pattern}`));
    }
    expect(output).toContain("All three patterns held.");
    expect(code).toBe(0);
  }, 90_000);
});
