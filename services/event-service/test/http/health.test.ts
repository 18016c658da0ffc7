import { afterEach, describe, expect, it } from "vitest";
import { startGateway, type TestGateway } from "../gateway/harness.js";

describe("health and readiness", () => {
  let gateway: TestGateway | undefined;
  afterEach(async () => {
    await gateway?.close();
    gateway = undefined;
  });

  it("health - GET /health answers 200 ok", async () => {
    gateway = await startGateway();
    const response = await gateway.app.inject({ method: "GET", url: "/health" });
    expect(response.statusCode).toBe(200);
    expect(response.json()).toEqual({ status: "ok" });
  });

  it("ready - GET /ready reports the adapter kind and its ready state", async () => {
    gateway = await startGateway();
    const response = await gateway.app.inject({ method: "GET", url: "/ready" });
    expect(response.statusCode).toBe(200);
    expect(response.json()).toEqual({ status: "ready", broker: { kind: "memory", state: "ready" } });
  });

  it("ready - 503 with SOORMA_ERR_BROKER_UNAVAILABLE when the broker is not ready", async () => {
    gateway = await startGateway();
    await gateway.adapter.close();
    const response = await gateway.app.inject({ method: "GET", url: "/ready" });
    expect(response.statusCode).toBe(503);
    expect(response.json()).toMatchObject({
      status: "unavailable",
      broker: { kind: "memory", state: "closed" },
      success: false,
      error: { code: "SOORMA_ERR_BROKER_UNAVAILABLE" },
    });
  });

  it("ready - 503 with SOORMA_ERR_DRAINING while draining; /health stays 200", async () => {
    gateway = await startGateway();
    await gateway.app.soorma.drain({ timeoutMs: 0 });
    const ready = await gateway.app.inject({ method: "GET", url: "/ready" });
    expect(ready.statusCode).toBe(503);
    expect(ready.json()).toMatchObject({ status: "draining", error: { code: "SOORMA_ERR_DRAINING" } });
    expect((await gateway.app.inject({ method: "GET", url: "/health" })).statusCode).toBe(200);
  });

  it("not found - an unknown route is 404 SOORMA_ERR_NOT_FOUND in the error body", async () => {
    gateway = await startGateway();
    const response = await gateway.app.inject({ method: "GET", url: "/v1/nothing-here?x=1" });
    expect(response.statusCode).toBe(404);
    expect(response.json()).toEqual({
      success: false,
      error: { code: "SOORMA_ERR_NOT_FOUND", message: "no route GET /v1/nothing-here" },
    });
  });

  it("not found - a plain GET of the WebSocket path (no upgrade) is 404 SOORMA_ERR_NOT_FOUND", async () => {
    gateway = await startGateway();
    const response = await gateway.app.inject({ method: "GET", url: "/v1/events/ws" });
    expect(response.statusCode).toBe(404);
    expect(response.json()).toMatchObject({ success: false, error: { code: "SOORMA_ERR_NOT_FOUND" } });
  });
});
