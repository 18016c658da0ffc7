import { createMemoryAdapter } from "../../src/broker/memory.js";
import { describeTenantIsolation } from "./isolation.js";

describeTenantIsolation("memory", {
  availability: { available: true },
  adapter: async () => createMemoryAdapter(),
});
