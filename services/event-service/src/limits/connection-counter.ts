import { limitExceeded } from "./limit-errors.js";

/** Options of {@link createConnectionCounter}. */
export interface ConnectionCounterOptions {
  /** Open connections allowed per platform tenant. @default 1000 (config `maxConnectionsPerTenant`) */
  maxConnectionsPerTenant: number;
}

/** One counted connection. Release it when the connection closes, whatever the reason. */
export interface ConnectionSlot {
  readonly tenant: string;
  /** Give the slot back. Idempotent, so every close path may call it. */
  release(): void;
}

/** Counts open connections per tenant so one tenant cannot use up the gateway's sockets and memory. */
export interface ConnectionCounter {
  /**
   * Take a slot for a new connection of `tenant`. Throws `LimitError` `SOORMA_ERR_LIMIT_EXCEEDED`
   * (`details.limit = "maxConnectionsPerTenant"`) when the tenant already has the maximum open.
   */
  acquire(tenant: string): ConnectionSlot;
  /** Open connections of `tenant`. */
  count(tenant: string): number;
  /** Tenants with at least one open connection. Tenants at zero are forgotten, so memory stays bounded. */
  tenants(): number;
}

/** Build a {@link ConnectionCounter}. */
export function createConnectionCounter(options: ConnectionCounterOptions): ConnectionCounter {
  const max = options.maxConnectionsPerTenant;
  const open = new Map<string, number>();
  return {
    acquire(tenant) {
      const current = open.get(tenant) ?? 0;
      if (current >= max) {
        throw limitExceeded(
          "maxConnectionsPerTenant",
          max,
          `tenant has ${max} open connections, the most allowed`,
        );
      }
      open.set(tenant, current + 1);
      let released = false;
      return {
        tenant,
        release() {
          if (released) return;
          released = true;
          const remaining = (open.get(tenant) ?? 1) - 1;
          if (remaining <= 0) open.delete(tenant);
          else open.set(tenant, remaining);
        },
      };
    },
    count: (tenant) => open.get(tenant) ?? 0,
    tenants: () => open.size,
  };
}
