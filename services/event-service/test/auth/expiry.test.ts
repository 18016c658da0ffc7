import { SoormaError } from "@soorma/common";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import {
  assertSameTenant,
  CREDENTIALS_EXPIRED_CLOSE_CODE,
  credentialsExpiredError,
  watchExpiry,
} from "../../src/auth/expiry.js";
import type { Principal } from "../../src/auth/principal.js";

const DAY = 86_400_000;

function principal(overrides: Partial<Principal> = {}): Principal {
  return {
    tenant: "acme",
    subject: "svc",
    role: "agent",
    agentNames: "*",
    publishTopics: "*",
    subscribeTopics: "*",
    credential: "jwt",
    ...overrides,
  };
}

describe("credential expiry on a live connection", () => {
  beforeEach(() => {
    vi.useFakeTimers({ now: Date.parse("2030-01-01T00:00:00Z") });
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it("expiry - fires once when expiresAt passes, not before", () => {
    const onExpire = vi.fn();
    watchExpiry(principal({ expiresAt: Date.now() + 60_000 }), onExpire);
    vi.advanceTimersByTime(59_999);
    expect(onExpire).not.toHaveBeenCalled();
    vi.advanceTimersByTime(1);
    expect(onExpire).toHaveBeenCalledTimes(1);
    vi.advanceTimersByTime(10 * 60_000);
    expect(onExpire).toHaveBeenCalledTimes(1);
  });

  it("expiry - an already expired principal is reported on the next tick, not during the call", () => {
    const onExpire = vi.fn();
    watchExpiry(principal({ expiresAt: Date.now() - 1 }), onExpire);
    expect(onExpire).not.toHaveBeenCalled();
    vi.advanceTimersByTime(0);
    expect(onExpire).toHaveBeenCalledTimes(1);
  });

  it("expiry - expiries beyond the 24.8-day timer limit still fire at the right time", () => {
    const onExpire = vi.fn();
    watchExpiry(principal({ expiresAt: Date.now() + 40 * DAY }), onExpire);
    vi.advanceTimersByTime(39 * DAY);
    expect(onExpire).not.toHaveBeenCalled();
    vi.advanceTimersByTime(DAY);
    expect(onExpire).toHaveBeenCalledTimes(1);
  });

  it("expiry - stopping the watch (connection closed) prevents the callback", () => {
    const onExpire = vi.fn();
    const stop = watchExpiry(principal({ expiresAt: Date.now() + 1000 }), onExpire);
    stop();
    vi.advanceTimersByTime(5000);
    expect(onExpire).not.toHaveBeenCalled();
  });

  it("expiry - principals without expiresAt are never expired and hold no timer", () => {
    const onExpire = vi.fn();
    watchExpiry(principal(), onExpire);
    expect(vi.getTimerCount()).toBe(0);
    vi.advanceTimersByTime(365 * DAY);
    expect(onExpire).not.toHaveBeenCalled();
  });

  it("expiry - the error and close code tell the client to come back with a fresh token", () => {
    const error = credentialsExpiredError();
    expect(error.code).toBe("SOORMA_ERR_UNAUTHENTICATED");
    expect(error.details).toEqual({ reason: "expired" });
    expect(CREDENTIALS_EXPIRED_CLOSE_CODE).toBeGreaterThanOrEqual(4000);
    expect(CREDENTIALS_EXPIRED_CLOSE_CODE).toBeLessThan(5000);
  });
});

describe("re-authentication", () => {
  it("re-authentication - a fresh credential of the same tenant is accepted, another tenant's is forbidden", () => {
    const current = principal({ expiresAt: 1 });
    expect(() => assertSameTenant(current, principal({ expiresAt: 2 }))).not.toThrow();
    try {
      assertSameTenant(current, principal({ tenant: "globex" }));
      expect.unreachable("a tenant switch must be refused");
    } catch (error) {
      expect(error).toBeInstanceOf(SoormaError);
      expect((error as SoormaError).code).toBe("SOORMA_ERR_FORBIDDEN");
    }
  });
});
