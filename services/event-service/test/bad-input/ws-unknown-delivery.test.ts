import { it } from "vitest";
import { badInputScenario, expectErrorFrame, expectStillHealthy } from "./scenario.js";

it("bad input (ws) - ack, nack and in_progress of an unknown delivery get SOORMA_ERR_DELIVERY_UNKNOWN with its id", async () => {
  const scenario = await badInputScenario();
  try {
    for (const type of ["ack", "nack", "in_progress"] as const) {
      scenario.offender.send({ type, delivery_id: `ghost-${type}` });
      await expectErrorFrame(scenario.offender, "SOORMA_ERR_DELIVERY_UNKNOWN", {
        delivery_id: `ghost-${type}`,
      });
    }
    await expectStillHealthy(scenario);
  } finally {
    await scenario.close();
  }
});
