import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { SoormaError } from "@soorma/common";
import { freePort } from "@soorma/test-utils";
import { afterEach, describe, expect, it } from "vitest";
import { createJwtVerifier, type JwtVerifierOptions } from "../../src/auth/jwt.js";
import { rsaKeyPair, signToken } from "./jwt-helpers.js";

const ISSUER = "https://idp.test";
const AUDIENCE = "soorma-events";

type KeyPair = ReturnType<typeof rsaKeyPair>;

/** A JWKS endpoint on loopback that serves whatever keys it holds now and counts requests. */
interface JwksServer {
  url: string;
  requests: number;
  publish(keys: Array<{ kid: string; pair: KeyPair }>): void;
  close(): Promise<void>;
}

async function startJwksServer(): Promise<JwksServer> {
  let body = JSON.stringify({ keys: [] });
  const state = { requests: 0 };
  const server: Server = createServer((request, response) => {
    state.requests += 1;
    if (request.url !== "/.well-known/jwks.json") {
      response.writeHead(404).end();
      return;
    }
    response.writeHead(200, { "content-type": "application/json" }).end(body);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/.well-known/jwks.json`,
    get requests() {
      return state.requests;
    },
    publish(keys) {
      body = JSON.stringify({
        keys: keys.map(({ kid, pair }) => ({
          ...pair.publicKey.export({ format: "jwk" }),
          kid,
          alg: "RS256",
          use: "sig",
        })),
      });
    },
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((error) => (error ? reject(error) : resolve()));
      }),
  };
}

function sign(pair: KeyPair, kid: string, claims: Record<string, unknown> = {}): Promise<string> {
  return signToken(pair.privateKey, { iss: ISSUER, aud: AUDIENCE, ...claims }, { alg: "RS256", kid });
}

async function rejection(promise: Promise<unknown>): Promise<SoormaError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof SoormaError) return error;
    throw error;
  }
  throw new Error("expected a rejection, the promise resolved");
}

describe("JWKS over real HTTP", () => {
  const servers: JwksServer[] = [];
  const keyA = rsaKeyPair();
  const keyB = rsaKeyPair();

  afterEach(async () => {
    await Promise.all(servers.splice(0).map((server) => server.close()));
  });

  async function setUp(options: Partial<JwtVerifierOptions> = {}) {
    const server = await startJwksServer();
    servers.push(server);
    const verifier = createJwtVerifier({
      jwksUrl: server.url,
      issuer: ISSUER,
      audience: AUDIENCE,
      ...options,
    });
    return { server, verifier };
  }

  it("jwks - one fetch serves twenty verifications", async () => {
    const { server, verifier } = await setUp();
    server.publish([{ kid: "a", pair: keyA }]);
    const tokens = await Promise.all(
      Array.from({ length: 20 }, (_, i) => sign(keyA, "a", { sub: `svc-${i}` })),
    );
    for (const [i, token] of tokens.entries()) {
      expect((await verifier.verify(token)).subject).toBe(`svc-${i}`);
    }
    expect(server.requests).toBe(1);
  });

  it("jwks - an unknown kid makes one refetch, and the rotated-in key verifies", async () => {
    const { server, verifier } = await setUp({ jwksCooldownMs: 0 });
    server.publish([{ kid: "a", pair: keyA }]);
    expect((await verifier.verify(await sign(keyA, "a"))).tenant).toBe("acme");
    expect(server.requests).toBe(1);

    server.publish([
      { kid: "a", pair: keyA },
      { kid: "b", pair: keyB },
    ]);
    expect((await verifier.verify(await sign(keyB, "b", { sub: "rotated" }))).subject).toBe("rotated");
    expect(server.requests).toBe(2);
    // Both keys are cached now: no further fetches.
    await verifier.verify(await sign(keyA, "a"));
    await verifier.verify(await sign(keyB, "b"));
    expect(server.requests).toBe(2);
  });

  it("jwks - within the cooldown, tokens naming random kids cause no extra fetches", async () => {
    const { server, verifier } = await setUp({ jwksCooldownMs: 60_000 });
    server.publish([{ kid: "a", pair: keyA }]);
    await verifier.verify(await sign(keyA, "a"));
    for (let i = 0; i < 5; i++) {
      const error = await rejection(verifier.verify(await sign(keyB, `random-${i}`)));
      expect(error.code).toBe("SOORMA_ERR_UNAUTHENTICATED");
      expect(error.details).toEqual({ reason: "invalid" });
    }
    expect(server.requests).toBe(1);
  });

  it("jwks - a kid served with another key's material fails the signature check", async () => {
    const { server, verifier } = await setUp();
    server.publish([{ kid: "a", pair: keyA }]);
    const error = await rejection(verifier.verify(await sign(keyB, "a")));
    expect(error.code).toBe("SOORMA_ERR_UNAUTHENTICATED");
  });

  it("jwks - issuer and audience are enforced", async () => {
    const { server, verifier } = await setUp();
    server.publish([{ kid: "a", pair: keyA }]);
    const wrongAudience = await rejection(verifier.verify(await sign(keyA, "a", { aud: "another-service" })));
    expect(wrongAudience.details).toEqual({ reason: "claims" });
    const wrongIssuer = await rejection(verifier.verify(await sign(keyA, "a", { iss: "https://evil.test" })));
    expect(wrongIssuer.details).toEqual({ reason: "claims" });
  });

  it("jwks - an unreachable endpoint is SOORMA_ERR_INTERNAL (retry later), not a bad credential", async () => {
    const port = await freePort();
    const verifier = createJwtVerifier({
      jwksUrl: `http://127.0.0.1:${port}/jwks.json`,
      issuer: ISSUER,
      audience: AUDIENCE,
      jwksTimeoutMs: 2_000,
    });
    const error = await rejection(verifier.verify(await sign(keyA, "a")));
    expect(error.code).toBe("SOORMA_ERR_INTERNAL");
  });

  it("jwks - an endpoint that never answers times out as SOORMA_ERR_INTERNAL within jwksTimeoutMs", async () => {
    const silent = createServer(() => {});
    await new Promise<void>((resolve) => silent.listen(0, "127.0.0.1", resolve));
    try {
      const { port } = silent.address() as AddressInfo;
      const verifier = createJwtVerifier({
        jwksUrl: `http://127.0.0.1:${port}/jwks.json`,
        issuer: ISSUER,
        audience: AUDIENCE,
        jwksTimeoutMs: 200,
      });
      const started = Date.now();
      const error = await rejection(verifier.verify(await sign(keyA, "a")));
      expect(error.code).toBe("SOORMA_ERR_INTERNAL");
      expect(Date.now() - started).toBeLessThan(5_000);
    } finally {
      silent.closeAllConnections();
      await new Promise<void>((resolve) => silent.close(() => resolve()));
    }
  });

  it("jwks - an endpoint answering 404 is SOORMA_ERR_INTERNAL", async () => {
    const server = await startJwksServer();
    servers.push(server);
    const verifier = createJwtVerifier({
      jwksUrl: `${server.url}.missing`,
      issuer: ISSUER,
      audience: AUDIENCE,
    });
    const error = await rejection(verifier.verify(await sign(keyA, "a")));
    expect(error.code).toBe("SOORMA_ERR_INTERNAL");
    expect(server.requests).toBe(1);
  });
});
