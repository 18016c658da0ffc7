import { spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { deferred, withDeadline } from "@soorma/test-utils";
import ts from "typescript";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { InboxKey } from "../../src/broker/adapter.js";
import { createSqliteAdapter, SQLITE_FILE_NAME } from "../../src/broker/sqlite.js";
import { randomKey, randomName } from "./local-adapter-cases.js";

const PACKAGE_DIR = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
const BROKER_SRC = join(PACKAGE_DIR, "src/broker");

/**
 * Emit plain JavaScript for the SQLite adapter and its helpers, so a child `node` process can load the real
 * adapter without depending on the package build. The output lives under the package's node_modules so the
 * child resolves `better-sqlite3` and `@soorma/common` as the package does.
 */
function emitAdapter(outDir: string): string {
  const sources = ["sqlite.ts", ...readdirSync(join(BROKER_SRC, "local")).map((f) => join("local", f))];
  for (const source of sources.filter((f) => f.endsWith(".ts"))) {
    const output = ts.transpileModule(readFileSync(join(BROKER_SRC, source), "utf8"), {
      compilerOptions: {
        module: ts.ModuleKind.ESNext,
        target: ts.ScriptTarget.ES2022,
        verbatimModuleSyntax: true,
      },
      fileName: source,
    });
    const target = join(outDir, source.replace(/\.ts$/, ".js"));
    mkdirSync(dirname(target), { recursive: true });
    writeFileSync(target, output.outputText);
  }
  return join(outDir, "sqlite.js");
}

/** The child: publish events `<prefix>-<n>` one after another, printing each id once its publish resolved. */
const PUBLISHER_SCRIPT = `
import { createSqliteAdapter } from "./sqlite.js";
const [path, tenant, topic, prefix] = process.argv.slice(2);
const adapter = createSqliteAdapter({ path });
await adapter.connect();
for (let n = 0; ; n += 1) {
  const id = prefix + "-" + n;
  await adapter.publish({
    id, source: "durability-child", specversion: "1.0", type: "durability.tick", time: new Date().toISOString(),
    correlation_id: id, topic, platform_tenant_id: tenant, data: { n },
  });
  process.stdout.write(id + "\\n");
}
`;

describe("sqlite durability", () => {
  let buildDir: string;
  let dataDir: string;

  beforeAll(() => {
    buildDir = mkdtempSync(join(PACKAGE_DIR, "node_modules", ".soorma-durability-"));
    emitAdapter(buildDir);
    writeFileSync(join(buildDir, "publisher.mjs"), PUBLISHER_SCRIPT);
    dataDir = mkdtempSync(join(tmpdir(), "soorma-durability-"));
  });
  afterAll(() => {
    rmSync(buildDir, { recursive: true, force: true });
    rmSync(dataDir, { recursive: true, force: true });
  });

  it("kill -9 mid-stream - every confirmed publish is delivered exactly once to each of three inboxes", async () => {
    const path = join(dataDir, SQLITE_FILE_NAME);
    const base = randomKey();
    const keys: InboxKey[] = [1, 2, 3].map(() => ({ ...base, group: randomName("group") }));
    const prefix = randomName("evt");

    // The inboxes exist before the child publishes, so every event it confirms fans out to all three.
    const setup = createSqliteAdapter({ path });
    await setup.connect();
    for (const key of keys) await setup.ensureInbox(key);
    await setup.close();

    const child = spawn(
      process.execPath,
      [join(buildDir, "publisher.mjs"), path, base.tenant, base.topic, prefix],
      {
        cwd: buildDir,
        stdio: ["ignore", "pipe", "pipe"],
      },
    );
    let stderr = "";
    child.stderr.on("data", (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    const exited = deferred<NodeJS.Signals | number | null>();
    child.on("exit", (code, signal) => exited.resolve(signal ?? code));
    // "close" comes after "exit" once the child's stdout is drained: every line it printed has been read.
    const drained = deferred();
    child.on("close", () => drained.resolve());
    const confirmed: string[] = [];
    const enough = deferred();
    createInterface({ input: child.stdout }).on("line", (line) => {
      confirmed.push(line);
      if (confirmed.length === 300) enough.resolve();
    });
    try {
      await withDeadline(
        Promise.race([
          enough.promise,
          exited.promise.then(() => Promise.reject(new Error(`child exited: ${stderr}`))),
        ]),
        20_000,
        "child confirming 300 publishes",
      );
      // Killed while publishing: the child never stops on its own.
      child.kill("SIGKILL");
      expect(await withDeadline(exited.promise, 5_000, "child dying")).toBe("SIGKILL");
    } finally {
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
    }
    // Lines already in the pipe when the child died are confirmations too.
    await withDeadline(drained.promise, 5_000, "child's stdout draining");
    const lastConfirmed = confirmed.length - 1;

    const reopened = createSqliteAdapter({ path });
    await reopened.connect();
    try {
      for (const key of keys) {
        const consumer = await reopened.openInbox(key, { leaseMs: 30_000, maxInFlight: 500 });
        const delivered: string[] = [];
        for (;;) {
          const messages = await consumer.pull(200, { waitMs: 0 });
          if (messages.length === 0) break;
          for (const message of messages) {
            delivered.push(message.envelope.id);
            expect(message.attempt).toBe(1);
            await message.ack();
          }
        }
        await consumer.close();
        expect(new Set(delivered).size).toBe(delivered.length);
        expect(delivered.slice(0, confirmed.length)).toEqual(confirmed);
        // The child may have committed one more publish and died before printing it; never anything else.
        expect(delivered.slice(confirmed.length)).toEqual(
          delivered.length > confirmed.length ? [`${prefix}-${lastConfirmed + 1}`] : [],
        );
      }
      expect(await reopened.listInboxes(base.tenant)).toEqual(
        expect.arrayContaining(keys.map((key) => ({ key, pending: 0 }))),
      );
    } finally {
      await reopened.close();
    }
  });
});
