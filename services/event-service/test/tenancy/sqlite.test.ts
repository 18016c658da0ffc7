import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createAdapter } from "../../src/broker/factory.js";
import { resolveConfig } from "../../src/config.js";
import { describeTenantIsolation } from "./isolation.js";

let dataDir: string | undefined;

describeTenantIsolation("sqlite", {
  availability: { available: true },
  async setup() {
    dataDir = await mkdtemp(join(tmpdir(), "soorma-tenancy-sqlite-"));
    return () => rm(dataDir!, { recursive: true, force: true });
  },
  // Through the factory, as the server builds it: one SQLite file shared by both tenants.
  adapter: async () => createAdapter(resolveConfig({ broker: "sqlite", dataDir: dataDir! })),
});
