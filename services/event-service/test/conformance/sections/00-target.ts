import { describe, expect, it } from "vitest";
import type { ConformanceContext } from "../context.js";

/** Section 0: the gateway under test really runs the target's adapter and reports it ready. */
export function targetSection(ctx: ConformanceContext): void {
  describe("0. target", () => {
    it(`target - GET /ready reports the adapter under test as ready`, async () => {
      const response = await fetch(`${ctx.gateway.httpUrl}/ready`);
      expect(response.status).toBe(200);
      expect(await response.json()).toMatchObject({
        status: "ready",
        broker: { kind: ctx.target.kind, state: "ready" },
      });
    });
  });
}
