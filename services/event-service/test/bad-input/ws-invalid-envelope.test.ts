import { expect, it } from "vitest";
import { badInputScenario, expectErrorFrame, expectStillHealthy } from "./scenario.js";

it("bad input (ws) - a publish with an invalid envelope gets SOORMA_ERR_ENVELOPE_INVALID and nothing is stored", async () => {
  const scenario = await badInputScenario();
  try {
    scenario.offender.send({
      type: "publish",
      req_id: "bad-env",
      event: { id: "never-stored", type: "not a type!", topic: scenario.topic },
    });
    const frame = await expectErrorFrame(scenario.offender, "SOORMA_ERR_ENVELOPE_INVALID", {
      req_id: "bad-env",
    });
    expect(JSON.stringify(frame.details)).toContain("event.source");
    await expectStillHealthy(scenario);
    const ids = scenario.consumer.received.flatMap((f) => (f.type === "delivery" ? [f.event.id] : []));
    expect(ids).not.toContain("never-stored");
  } finally {
    await scenario.close();
  }
});
