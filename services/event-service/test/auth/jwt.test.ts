import { createHmac } from "node:crypto";
import { SoormaError } from "@soorma/common";
import { describe, expect, it } from "vitest";
import { createJwtVerifier, type JwtVerifierOptions } from "../../src/auth/jwt.js";
import { nowSec, rsaKeyPair, signToken, unsecuredToken } from "./jwt-helpers.js";

const SECRET = "a-test-secret-that-is-32-bytes-long!";
const secretKey = new TextEncoder().encode(SECRET);

async function rejection(promise: Promise<unknown>): Promise<SoormaError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof SoormaError) return error;
    throw error;
  }
  throw new Error("expected a rejection, the promise resolved");
}

function configError(options: JwtVerifierOptions): SoormaError {
  try {
    createJwtVerifier(options);
  } catch (error) {
    if (error instanceof SoormaError) return error;
    throw error;
  }
  throw new Error("expected a ConfigError");
}

async function expectRefused(promise: Promise<unknown>, reason: string): Promise<SoormaError> {
  const error = await rejection(promise);
  expect(error.code).toBe("SOORMA_ERR_UNAUTHENTICATED");
  expect(error.details).toEqual({ reason });
  return error;
}

describe("JWT HS256", () => {
  const verifier = createJwtVerifier({ secret: SECRET, issuer: "https://issuer.test", audience: "soorma" });
  const good = { iss: "https://issuer.test", aud: "soorma" };

  it("HS256 - a valid token maps tenant, subject, role, allow-lists and expiry", async () => {
    const token = await signToken(secretKey, {
      ...good,
      sub: "svc-billing",
      soorma_role: "admin",
      soorma_agent_names: ["billing-*"],
      soorma_publish_topics: "action-results business-facts",
      soorma_subscribe_topics: "*",
    });
    const principal = await verifier.verify(token);
    expect(principal).toEqual({
      tenant: "acme",
      subject: "svc-billing",
      role: "admin",
      agentNames: ["billing-*"],
      publishTopics: ["action-results", "business-facts"],
      subscribeTopics: "*",
      credential: "jwt",
      expiresAt: expect.any(Number),
    });
    // expiresAt = exp + the clock tolerance (5 s by default): the moment the token stops being accepted.
    expect(Math.abs((principal.expiresAt ?? 0) - (nowSec() + 300 + 5) * 1000)).toBeLessThanOrEqual(2000);
  });

  it("HS256 - absent allow-list claims allow everything; absent role is agent", async () => {
    const principal = await verifier.verify(await signToken(secretKey, good));
    expect(principal).toMatchObject({
      role: "agent",
      agentNames: "*",
      publishTopics: "*",
      subscribeTopics: "*",
    });
    expect(principal.subject).toBe("jwt");
  });

  it("HS256 - tenant claim falls back from soorma_tenant to tenant", async () => {
    const token = await signToken(secretKey, { ...good, soorma_tenant: undefined, tenant: "globex" });
    expect((await verifier.verify(token)).tenant).toBe("globex");
  });

  it("HS256 - a configured tenant claim is the only one read", async () => {
    const orgVerifier = createJwtVerifier({ secret: SECRET, tenantClaim: "org" });
    expect((await orgVerifier.verify(await signToken(secretKey, { org: "initech" }))).tenant).toBe("initech");
    await expectRefused(orgVerifier.verify(await signToken(secretKey, { soorma_tenant: "acme" })), "claims");
  });

  it.each([
    ["missing", { soorma_tenant: undefined }],
    ["with a dot", { soorma_tenant: "acme.evil" }],
    ["a path", { soorma_tenant: "../other" }],
    ["not a string", { soorma_tenant: 42 }],
    ["too long", { soorma_tenant: "t".repeat(65) }],
  ])("HS256 - tenant claim %s is refused", async (_, claims) => {
    await expectRefused(verifier.verify(await signToken(secretKey, { ...good, ...claims })), "claims");
  });

  it("HS256 - the strongest known role in an array counts; unknown roles grant nothing", async () => {
    const array = await signToken(secretKey, {
      ...good,
      soorma_role: ["agent", "platform-admin", "superuser"],
    });
    expect((await verifier.verify(array)).role).toBe("platform-admin");
    const unknown = await signToken(secretKey, { ...good, soorma_role: "superuser" });
    expect((await verifier.verify(unknown)).role).toBe("agent");
  });

  it("HS256 - a malformed allow-list claim is refused", async () => {
    const token = await signToken(secretKey, { ...good, soorma_publish_topics: ["team-*-a"] });
    const error = await expectRefused(verifier.verify(token), "claims");
    expect(error.message).toContain("soorma_publish_topics");
  });

  it("HS256 - an expired token is refused with reason expired", async () => {
    await expectRefused(verifier.verify(await signToken(secretKey, good, { expiresInSec: -60 })), "expired");
  });

  it("HS256 - a token not yet valid (nbf in the future) is refused", async () => {
    await expectRefused(
      verifier.verify(await signToken(secretKey, { ...good, nbf: nowSec() + 600 })),
      "claims",
    );
  });

  it("HS256 - a token without exp is refused unless requireExpiry is false", async () => {
    const token = await signToken(secretKey, good, { expiresInSec: null });
    await expectRefused(verifier.verify(token), "claims");
    const lenient = createJwtVerifier({ secret: SECRET, requireExpiry: false });
    expect((await lenient.verify(token)).expiresAt).toBeUndefined();
  });

  it("HS256 - wrong issuer and wrong audience are refused, naming the claim", async () => {
    const wrongIss = await expectRefused(
      verifier.verify(await signToken(secretKey, { ...good, iss: "evil" })),
      "claims",
    );
    expect(wrongIss.message).toContain("iss");
    const wrongAud = await expectRefused(
      verifier.verify(await signToken(secretKey, { ...good, aud: "other" })),
      "claims",
    );
    expect(wrongAud.message).toContain("aud");
  });

  it("HS256 - a token signed with another secret is refused, and the message does not echo it", async () => {
    const token = await signToken(new TextEncoder().encode("another-secret-that-is-32-bytes-long"), good);
    const error = await expectRefused(verifier.verify(token), "invalid");
    expect(error.message).not.toContain(token);
  });

  it("HS256 - a payload changed after signing (forged tenant) is refused", async () => {
    const token = await signToken(secretKey, good);
    const [header, payload, signature] = token.split(".");
    const claims = JSON.parse(Buffer.from(payload ?? "", "base64url").toString());
    const forged = Buffer.from(JSON.stringify({ ...claims, soorma_tenant: "victim" })).toString("base64url");
    await expectRefused(verifier.verify(`${header}.${forged}.${signature}`), "invalid");
  });

  it("HS256 - alg none is refused", async () => {
    const error = await rejection(verifier.verify(unsecuredToken({ ...good })));
    expect(error.code).toBe("SOORMA_ERR_UNAUTHENTICATED");
  });

  it("HS256 - an HS512 token is refused when only HS256 is allowed", async () => {
    await expectRefused(verifier.verify(await signToken(secretKey, good, { alg: "HS512" })), "invalid");
  });

  it.each([
    ["not a token", "hello"],
    ["two parts", "abc.def"],
    ["bad base64 header", "!!!.e30.sig"],
    ["garbage parts", "abc.def.ghi"],
    ["oversized", `${"a".repeat(20_000)}.b.c`],
  ])("HS256 - %s is refused as unauthenticated", async (_, token) => {
    const error = await rejection(verifier.verify(token));
    expect(error.code).toBe("SOORMA_ERR_UNAUTHENTICATED");
  });
});

describe("JWT RS256", () => {
  const issuerKeys = rsaKeyPair();
  const verifier = createJwtVerifier({ publicKeyPem: issuerKeys.publicKeyPem });

  it("RS256 - a token signed by the configured key verifies", async () => {
    const token = await signToken(issuerKeys.privateKey, { sub: "svc" }, { alg: "RS256" });
    expect(await verifier.verify(token)).toMatchObject({ tenant: "acme", subject: "svc", credential: "jwt" });
  });

  it("RS256 - a token signed by another key pair is refused", async () => {
    const token = await signToken(rsaKeyPair().privateKey, {}, { alg: "RS256" });
    await expectRefused(verifier.verify(token), "invalid");
  });

  it("RS256 - an expired token is refused with reason expired", async () => {
    const token = await signToken(issuerKeys.privateKey, {}, { alg: "RS256", expiresInSec: -60 });
    await expectRefused(verifier.verify(token), "expired");
  });

  it("RS256 - an HS256 token keyed with the public PEM (algorithm confusion) is refused", async () => {
    const header = Buffer.from(JSON.stringify({ alg: "HS256", typ: "JWT" })).toString("base64url");
    const payload = Buffer.from(JSON.stringify({ soorma_tenant: "victim", exp: nowSec() + 300 })).toString(
      "base64url",
    );
    const signature = createHmac("sha256", issuerKeys.publicKeyPem)
      .update(`${header}.${payload}`)
      .digest("base64url");
    const error = await rejection(verifier.verify(`${header}.${payload}.${signature}`));
    expect(error.code).toBe("SOORMA_ERR_UNAUTHENTICATED");
  });

  it("RS256 - alg none is refused", async () => {
    const error = await rejection(verifier.verify(unsecuredToken({ soorma_tenant: "acme" })));
    expect(error.code).toBe("SOORMA_ERR_UNAUTHENTICATED");
  });
});

describe("JWT verifier configuration", () => {
  const { publicKeyPem } = rsaKeyPair();

  it.each<[string, JwtVerifierOptions, string]>([
    ["no key source", {}, "exactly one"],
    ["two key sources", { secret: SECRET, publicKeyPem }, "exactly one"],
    ["a short secret", { secret: "short" }, "32 bytes"],
    [
      "an unreadable PEM",
      { publicKeyPem: "-----BEGIN PUBLIC KEY-----\nnope\n-----END PUBLIC KEY-----" },
      "PEM",
    ],
    ["HS256 with a public key", { publicKeyPem, algorithms: ["HS256"] }, "HS256"],
    ["RS256 with a secret", { secret: SECRET, algorithms: ["RS256"] }, "RS256"],
    ["alg none", { secret: SECRET, algorithms: ["none"] }, "none"],
    [
      "plain http JWKS off loopback",
      { jwksUrl: "http://keys.example.com/jwks", issuer: "i", audience: "a" },
      "https",
    ],
    ["JWKS without issuer and audience", { jwksUrl: "https://keys.example.com/jwks" }, "ISSUER"],
    ["a JWKS URL that is not a URL", { jwksUrl: "not a url", issuer: "i", audience: "a" }, "URL"],
  ])("config - %s is a config error", (_, options, mention) => {
    const error = configError(options);
    expect(error.code).toBe("SOORMA_ERR_CONFIG_INVALID");
    expect(error.message).toContain(mention);
  });

  it("config - plain http JWKS on loopback is accepted (local identity providers)", () => {
    expect(createJwtVerifier({ jwksUrl: "http://127.0.0.1:1/jwks", issuer: "i", audience: "a" }).source).toBe(
      "jwks",
    );
  });
});
