import { expect, it } from "vitest";
import { wsMaxPayloadBytes } from "../../src/routes/ws.js";
import { badInputScenario, expectStillHealthy } from "./scenario.js";

it("bad input (ws) - a frame above the hard cap closes only that connection with 1009; others keep working", async () => {
  const scenario = await badInputScenario({ config: { maxMessageBytes: 4096 } });
  try {
    scenario.offender.send("x".repeat(wsMaxPayloadBytes(4096) + 1));
    const closed = await scenario.offender.closed;
    expect(closed.code).toBe(1009);
    await expectStillHealthy(scenario, { offenderCanPublish: false });
  } finally {
    await scenario.close();
  }
});
