import { SoormaError } from "@soorma/common";
import { describe, expect, it } from "vitest";
import { createConnectionCounter } from "../../src/limits/connection-counter.js";

function limitError(fn: () => unknown): SoormaError {
  try {
    fn();
  } catch (error) {
    if (error instanceof SoormaError) return error;
    throw error;
  }
  throw new Error("expected SOORMA_ERR_LIMIT_EXCEEDED");
}

describe("connections per tenant", () => {
  it("connection counter - the (max+1)th connection of a tenant gets SOORMA_ERR_LIMIT_EXCEEDED", () => {
    const counter = createConnectionCounter({ maxConnectionsPerTenant: 3 });
    for (let i = 0; i < 3; i++) counter.acquire("acme");
    const error = limitError(() => counter.acquire("acme"));
    expect(error.code).toBe("SOORMA_ERR_LIMIT_EXCEEDED");
    expect(error.statusCode).toBe(429);
    expect(error.details).toEqual({ limit: "maxConnectionsPerTenant", max: 3 });
    expect(counter.count("acme")).toBe(3);
  });

  it("connection counter - one tenant at its limit does not affect another", () => {
    const counter = createConnectionCounter({ maxConnectionsPerTenant: 2 });
    counter.acquire("acme");
    counter.acquire("acme");
    expect(() => counter.acquire("acme")).toThrow();
    expect(counter.acquire("globex").tenant).toBe("globex");
    expect(counter.count("globex")).toBe(1);
  });

  it("connection counter - releasing a slot admits a new connection; a double release frees only one slot", () => {
    const counter = createConnectionCounter({ maxConnectionsPerTenant: 2 });
    const first = counter.acquire("acme");
    counter.acquire("acme");
    first.release();
    first.release();
    expect(counter.count("acme")).toBe(1);
    counter.acquire("acme");
    expect(() => counter.acquire("acme")).toThrow();
  });

  it("connection counter - tenants with no connections are forgotten (bounded memory)", () => {
    const counter = createConnectionCounter({ maxConnectionsPerTenant: 5 });
    const slots = Array.from({ length: 1000 }, (_, i) => counter.acquire(`tenant-${i}`));
    expect(counter.tenants()).toBe(1000);
    for (const slot of slots) slot.release();
    expect(counter.tenants()).toBe(0);
    expect(counter.count("tenant-1")).toBe(0);
  });
});
