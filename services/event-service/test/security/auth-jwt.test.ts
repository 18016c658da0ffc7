import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { rsaKeyPair, signToken, unsecuredToken } from "../auth/jwt-helpers.js";
import { FrameClient } from "../gateway/frame-client.js";
import { randomName, startGateway, testEvent } from "../gateway/harness.js";
import { bearer, expectFatal, type KeyedGateway, refusedUpgrade, withHttpHelpers } from "./support.js";

const SECRET = "a-test-secret-that-is-long-enough-0123456789";
const SECRET_BYTES = new TextEncoder().encode(SECRET);

/** A JWKS endpoint on loopback serving one key, counting requests. */
async function startJwksServer(
  kid: string,
  pair: ReturnType<typeof rsaKeyPair>,
): Promise<{ url: string; requests: () => number; close(): Promise<void> }> {
  let requests = 0;
  const jwk = { ...pair.publicKey.export({ format: "jwk" }), kid, alg: "RS256", use: "sig" };
  const server: Server = createServer((_request, response) => {
    requests += 1;
    response.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ keys: [jwk] }));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/.well-known/jwks.json`,
    requests: () => requests,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

describe("authentication - JWT", () => {
  let gateway: KeyedGateway | undefined;
  const clients: FrameClient[] = [];
  const cleanups: Array<() => Promise<void>> = [];
  afterEach(async () => {
    await Promise.all(clients.splice(0).map((c) => c.close().catch(() => undefined)));
    await gateway?.close();
    gateway = undefined;
    await Promise.all(cleanups.splice(0).map((cleanup) => cleanup()));
  });

  async function start(jwt: Record<string, unknown>): Promise<KeyedGateway> {
    gateway = withHttpHelpers(await startGateway({ auth: { jwt } }));
    return gateway;
  }

  async function open(headers: Record<string, string>, hello: Parameters<typeof FrameClient.open>[1] = {}) {
    const opened = await FrameClient.open(gateway!.wsUrl, hello, { headers });
    clients.push(opened.client);
    return opened.client;
  }

  it("jwt - HS256 in the Authorization header: tenant from the claim, on WebSocket and HTTP", async () => {
    await start({ secret: SECRET });
    const token = await signToken(SECRET_BYTES, { soorma_tenant: "initech", sub: "svc-a" });
    const topic = randomName("t");
    const client = await open(bearer(token), { agent_name: randomName("g") });
    await client.subscribe(topic);
    const answer = await gateway!.publishHttp(
      testEvent(topic, "x.y", { platform_tenant_id: "acme" }),
      bearer(token),
    );
    expect(answer.status).toBe(200);
    expect((await client.next("delivery")).event).toMatchObject({
      id: answer.body.event_id,
      platform_tenant_id: "initech",
    });
  });

  it("jwt - RS256 token in hello.auth", async () => {
    const pair = rsaKeyPair();
    await start({ publicKey: pair.publicKeyPem });
    const token = await signToken(pair.privateKey, { soorma_tenant: "hooli" }, { alg: "RS256" });
    const topic = randomName("t");
    const client = await open({}, { auth: { token } });
    await client.subscribe(topic);
    await client.publish(testEvent(topic));
    expect((await client.next("delivery")).event.platform_tenant_id).toBe("hooli");
  });

  it("jwt - keys from a JWKS URL (a local key server), with issuer and audience checked", async () => {
    const pair = rsaKeyPair();
    const jwks = await startJwksServer("key-1", pair);
    cleanups.push(() => jwks.close());
    await start({ jwksUrl: jwks.url, issuer: "https://idp.test", audience: "soorma-events" });
    const claims = { soorma_tenant: "umbrella", iss: "https://idp.test", aud: "soorma-events" };
    const token = await signToken(pair.privateKey, claims, { alg: "RS256", kid: "key-1" });
    const client = await open(bearer(token));
    const topic = randomName("t");
    await client.subscribe(topic);
    await client.publish(testEvent(topic));
    expect((await client.next("delivery")).event.platform_tenant_id).toBe("umbrella");
    // A second connection uses the cached key set.
    await open(bearer(token));
    expect(jwks.requests()).toBe(1);

    const otherAudience = await signToken(
      pair.privateKey,
      { ...claims, aud: "another-service" },
      { alg: "RS256", kid: "key-1" },
    );
    const refused = await refusedUpgrade(gateway!.wsUrl, bearer(otherAudience));
    expect(refused.status).toBe(401);
    expect(refused.body.error).toMatchObject({
      code: "SOORMA_ERR_UNAUTHENTICATED",
      details: { reason: "claims" },
    });
  });

  it("jwt - an expired token is refused at upgrade, in hello and on HTTP with reason expired", async () => {
    await start({ secret: SECRET, clockToleranceSec: 0 });
    const expired = await signToken(SECRET_BYTES, { soorma_tenant: "acme" }, { expiresInSec: -30 });
    const upgrade = await refusedUpgrade(gateway!.wsUrl, bearer(expired));
    expect(upgrade.status).toBe(401);
    expect(upgrade.body.error).toMatchObject({
      code: "SOORMA_ERR_UNAUTHENTICATED",
      details: { reason: "expired" },
    });

    const client = await FrameClient.connect(gateway!.wsUrl);
    clients.push(client);
    client.sendHello({ auth: { token: expired } });
    const { frame } = await expectFatal(client, "SOORMA_ERR_UNAUTHENTICATED", 4401);
    expect(frame.details).toEqual({ reason: "expired" });

    const http = await gateway!.publishHttp(testEvent(randomName("t")), bearer(expired));
    expect(http.status).toBe(401);
  });

  it("jwt - an unsigned (alg none) token and a token signed with another secret are refused", async () => {
    await start({ secret: SECRET });
    const unsigned = unsecuredToken({ soorma_tenant: "acme", soorma_role: "platform-admin" });
    expect((await refusedUpgrade(gateway!.wsUrl, bearer(unsigned))).status).toBe(401);
    const forged = await signToken(new TextEncoder().encode("another-secret-that-is-also-long-enough-00"), {
      soorma_tenant: "acme",
    });
    const refused = await refusedUpgrade(gateway!.wsUrl, bearer(forged));
    expect(refused.body.error).toMatchObject({
      code: "SOORMA_ERR_UNAUTHENTICATED",
      details: { reason: "invalid" },
    });
    expect((await gateway!.adminGroups(bearer(unsigned))).status).toBe(401);
  });
});
