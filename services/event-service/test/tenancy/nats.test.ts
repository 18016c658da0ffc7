import { randomUUID } from "node:crypto";
import { type NatsServerHandle, requireBroker, startNatsServer } from "@soorma/test-utils";
import { createAdapter } from "../../src/broker/factory.js";
import { resolveConfig } from "../../src/config.js";
import { describeTenantIsolation } from "./isolation.js";

let server: NatsServerHandle | undefined;

/** A real nats-server started for this file; each gateway gets its own stream and subject prefix. */
describeTenantIsolation("nats", {
  availability: requireBroker("nats"),
  async setup() {
    server = await startNatsServer();
    return async () => {
      await server?.stop();
    };
  },
  async adapter() {
    const id = randomUUID().replaceAll("-", "").slice(0, 12);
    return createAdapter(
      resolveConfig({
        broker: "nats",
        nats: { url: server!.url, stream: `TENANCY_${id}`, subjectPrefix: `tenancy${id}` },
      }),
    );
  },
});
