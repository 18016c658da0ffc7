import * as crypto from "node:crypto";
import { describe, expect, it, vi } from "vitest";

// Count calls to the constant-time comparison without changing what it does.
vi.mock("node:crypto", async (importOriginal) => {
  const actual = await importOriginal<typeof import("node:crypto")>();
  return { ...actual, timingSafeEqual: vi.fn(actual.timingSafeEqual) };
});

const { createApiKeyStore, generateApiKey, hashApiKey, parseApiKeys } = await import(
  "../../src/auth/api-keys.js"
);

describe("api key lookup timing", () => {
  const keys = Array.from({ length: 5 }, () => generateApiKey());
  const store = createApiKeyStore(
    parseApiKeys(
      JSON.stringify({ keys: keys.map((key, i) => ({ id: `k${i}`, hash: hashApiKey(key), tenant: "t" })) }),
      "test",
    ),
  );
  const compare = vi.mocked(crypto.timingSafeEqual);

  it("constant-time lookup - a key matching the first entry is still compared with every entry", () => {
    compare.mockClear();
    expect(store.authenticate(keys[0] ?? "").subject).toBe("k0");
    expect(compare).toHaveBeenCalledTimes(keys.length);
  });

  it("constant-time lookup - an unknown key is compared with every entry, each time with timingSafeEqual", () => {
    compare.mockClear();
    expect(() => store.authenticate(generateApiKey())).toThrow();
    expect(compare).toHaveBeenCalledTimes(keys.length);
    for (const call of compare.mock.calls) expect((call[0] as Buffer).length).toBe(32);
  });
});
