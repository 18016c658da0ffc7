import { randomUUID } from "node:crypto";
import { jetstreamManager } from "@nats-io/jetstream";
import { connect } from "@nats-io/transport-node";
import { type NatsServerHandle, requireBroker, startNatsServer } from "@soorma/test-utils";
import { brokerAdapterSuite, type ConformanceTarget } from "./suite.js";

/**
 * The NATS JetStream adapter against a real `nats-server -js` started for this file (never a shared server).
 * Each deployment gets its own stream and subject prefix, so a deployment's cleanup can delete its stream
 * without touching another's; two gateways of one deployment share the stream (replicas, restarts).
 */
function natsTarget(): ConformanceTarget {
  const availability = requireBroker("nats");
  let server: NatsServerHandle | undefined;
  const running = (): NatsServerHandle => {
    if (server === undefined) throw new Error("nats-server is not started (setup() failed?)");
    return server;
  };
  return {
    kind: "nats",
    capabilities: { durable: true, multiReplica: true, survivesBrokerRestart: true, durableDedupe: true },
    ...(availability.available ? {} : { unavailable: availability.reason }),
    async setup() {
      server = await startNatsServer();
      return () => running().stop();
    },
    async gatewayEnv() {
      const id = randomUUID().replaceAll("-", "").slice(0, 12);
      const stream = `CONFORMANCE_${id}`;
      const launch = {
        env: {
          SOORMA_BROKER: "nats",
          SOORMA_NATS_URL: running().url,
          SOORMA_NATS_STREAM: stream,
          SOORMA_NATS_SUBJECT_PREFIX: `conformance${id}`,
          SOORMA_NATS_RECONNECT_WAIT_MS: "100",
        },
      };
      return [launch, () => deleteStream(running(), stream)];
    },
    async restartBroker() {
      await running().restart({ keepStore: true });
    },
  };
}

/** Best effort: the server may be down at the end of a failed test, and the store goes with it anyway. */
async function deleteStream(server: NatsServerHandle, stream: string): Promise<void> {
  if (!server.running) return;
  try {
    const nc = await connect({ servers: server.url, timeout: 2_000 });
    try {
      await (await jetstreamManager(nc)).streams.delete(stream);
    } finally {
      await nc.close();
    }
  } catch {
    // Nothing to clean up, or nothing to clean it up with.
  }
}

brokerAdapterSuite("nats", natsTarget());
