import { SoormaError } from "@soorma/common";
import { describe, expect, it } from "vitest";
import { type AuthModeInput, decideAuthMode, isLoopbackHost } from "../../src/auth/dev-mode.js";

function refusal(input: AuthModeInput): SoormaError {
  try {
    decideAuthMode(input);
  } catch (error) {
    if (error instanceof SoormaError) return error;
    throw error;
  }
  throw new Error("expected a ConfigError");
}

describe("loopback detection", () => {
  it.each([
    "127.0.0.1",
    "127.8.9.10",
    "localhost",
    "LOCALHOST",
    "localhost.",
    "::1",
    "[::1]",
    "0:0:0:0:0:0:0:1",
    "::ffff:127.0.0.1",
  ])("%s is loopback", (host) => {
    expect(isLoopbackHost(host)).toBe(true);
  });

  it.each([
    "0.0.0.0",
    "::",
    "[::]",
    "10.0.0.5",
    "192.168.1.20",
    "::ffff:10.0.0.1",
    "fe80::1",
    "",
    "example.com",
    "localhost.example.com",
    "127.0.0.1.nip.io",
    "my-laptop",
  ])("%j is not loopback", (host) => {
    expect(isLoopbackHost(host)).toBe(false);
  });
});

describe("dev mode decision", () => {
  it("dev mode - configured credentials mean secured on any address", () => {
    for (const host of ["127.0.0.1", "0.0.0.0", "::"]) {
      expect(decideAuthMode({ host, credentialsConfigured: true })).toEqual({ mode: "secured" });
    }
  });

  it("dev mode - no credentials on loopback runs open with a loud warning naming host and tenant", () => {
    const decision = decideAuthMode({
      host: "localhost",
      credentialsConfigured: false,
      defaultTenant: "dev-t",
    });
    expect(decision.mode).toBe("open");
    if (decision.mode !== "open") return;
    expect(decision.warning).toMatch(/^AUTHENTICATION IS OFF/);
    expect(decision.warning).toContain("localhost");
    expect(decision.warning).toContain('"dev-t"');
  });

  it.each(["0.0.0.0", "::", "10.0.0.5", "my-laptop"])(
    "dev mode - no credentials on %s refuses to start with SOORMA_ERR_CONFIG_INVALID",
    (host) => {
      const error = refusal({ host, credentialsConfigured: false });
      expect(error.code).toBe("SOORMA_ERR_CONFIG_INVALID");
      expect(error.message).toContain(`listen on ${host}`);
    },
  );

  it("dev mode - mode secured without credentials refuses to start even on loopback", () => {
    expect(refusal({ host: "127.0.0.1", credentialsConfigured: false, mode: "secured" }).message).toContain(
      "SOORMA_AUTH_MODE=secured",
    );
  });

  it("dev mode - the explicit insecure override runs open off loopback, with a network warning", () => {
    const decision = decideAuthMode({
      host: "0.0.0.0",
      credentialsConfigured: false,
      insecureAllowOpenNetwork: true,
    });
    expect(decision.mode).toBe("open");
    if (decision.mode !== "open") return;
    expect(decision.warning).toContain("ON A NETWORK ADDRESS (0.0.0.0)");
  });

  it("dev mode - the insecure override does not weaken secured mode", () => {
    const input = { host: "0.0.0.0", credentialsConfigured: false, insecureAllowOpenNetwork: true } as const;
    expect(refusal({ ...input, mode: "secured" }).code).toBe("SOORMA_ERR_CONFIG_INVALID");
  });
});
