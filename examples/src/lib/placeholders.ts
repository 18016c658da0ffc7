/**
 * Small local stand-ins for the helpers the messaging-patterns guide calls (`expensive_computation`,
 * `update_dashboard`, `validate_and_process_order`, `update_metrics`, `log_to_audit_trail`). They do real, visible
 * work (files, counters) so the examples can be run and checked.
 */
import { appendFile, mkdir } from "node:fs/promises";
import { dirname, resolve } from "node:path";

/** Where the examples write their audit and metric files. Override with `EXAMPLES_OUTPUT_DIR`. */
export const OUTPUT_DIR = resolve(process.env.EXAMPLES_OUTPUT_DIR ?? ".example-output");

/** Append one JSON line to `file` under {@link OUTPUT_DIR}; the JSONL file is the examples' "database". */
export async function appendJsonLine(file: string, record: unknown): Promise<string> {
  const path = resolve(OUTPUT_DIR, file);
  await mkdir(dirname(path), { recursive: true });
  await appendFile(path, `${JSON.stringify(record)}\n`);
  return path;
}

/** Stand-in for `expensive_computation`: sums the numbers in `data` after a short pause of CPU-free work. */
export async function expensiveComputation(
  data: Record<string, unknown> | null | undefined,
): Promise<number> {
  const numbers = Object.values(data ?? {}).filter((value): value is number => typeof value === "number");
  await new Promise((resolvePause) => setTimeout(resolvePause, 50));
  return numbers.reduce((sum, value) => sum + value, 0);
}

const dashboard = new Map<string, number>();

/** Stand-in for `update_dashboard` / `update_metrics`: counts orders per status and logs the tally. */
export async function updateDashboard(data: Record<string, unknown> | null | undefined): Promise<void> {
  const key = typeof data?.status === "string" ? data.status : "placed";
  dashboard.set(key, (dashboard.get(key) ?? 0) + 1);
  await appendJsonLine("dashboard.jsonl", { at: new Date().toISOString(), ...Object.fromEntries(dashboard) });
}

/** Stand-in for `validate_and_process_order`: refuses orders without an id. */
export async function validateAndProcessOrder(
  data: Record<string, unknown> | null | undefined,
): Promise<void> {
  if (typeof data?.order_id !== "string") throw new Error("order without order_id");
  await appendJsonLine("processed-orders.jsonl", {
    order_id: data.order_id,
    processed_at: new Date().toISOString(),
  });
}

/** Stand-in for `log_to_audit_trail` / `context.memory.store("audit", …)`. */
export async function logToAuditTrail(record: unknown): Promise<void> {
  await appendJsonLine("audit.jsonl", record);
}
