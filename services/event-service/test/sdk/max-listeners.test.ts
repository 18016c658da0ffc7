import { Worker } from "@soorma/sdk";
import { deferred, waitFor } from "@soorma/test-utils";
import { afterEach, describe, expect, it } from "vitest";
import { randomName, type SdkTestGateway, startGateway, testLogger } from "./support/gateway.js";

const PREFETCH = 40;

describe("SDK ↔ gateway: many handlers at once", () => {
  let gateway: SdkTestGateway | undefined;
  const cleanups: Array<() => Promise<void>> = [];
  const warnings: Error[] = [];
  const onWarning = (warning: Error): void => {
    warnings.push(warning);
  };
  afterEach(async () => {
    process.off("warning", onWarning);
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
    await gateway?.close();
    gateway = undefined;
  });

  it(`max listeners - a Worker with prefetch ${PREFETCH} runs ${PREFETCH} handlers at once without a MaxListenersExceededWarning`, async () => {
    process.on("warning", onWarning);
    gateway = await startGateway({ broker: "memory" });
    const topic = randomName("jobs");
    const release = deferred();
    let running = 0;
    let done = 0;
    const worker = new Worker({
      name: randomName("w"),
      url: gateway.url,
      prefetch: PREFETCH,
      logger: testLogger(),
    });
    cleanups.push(() => worker.stop({ force: true }));
    worker.onEvent("job.requested", { topic }, async () => {
      running += 1;
      await release.promise;
      done += 1;
    });
    await worker.start();
    for (let i = 0; i < PREFETCH; i++)
      await worker.publish({ event_type: "job.requested", topic, data: { i } });

    // Every handler holds its delivery, so every one listens on the connection's signal at the same time.
    await waitFor(() => running === PREFETCH, { message: `${PREFETCH} handlers running` });
    // Node reports a listener leak on the next tick after the listener that crossed the limit was added.
    await new Promise((resolve) => setImmediate(resolve));
    release.resolve();
    await waitFor(() => done === PREFETCH, { message: "every handler finished" });
    expect(warnings.filter((w) => w.name === "MaxListenersExceededWarning")).toEqual([]);
  });
});
