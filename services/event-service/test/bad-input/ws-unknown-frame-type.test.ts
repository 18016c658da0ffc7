import { it } from "vitest";
import { badInputScenario, expectErrorFrame, expectStillHealthy } from "./scenario.js";

it("bad input (ws) - an unknown frame type gets SOORMA_ERR_FRAME_UNKNOWN_TYPE with its req_id", async () => {
  const scenario = await badInputScenario();
  try {
    scenario.offender.send({ type: "teleport", req_id: "u-1", to: "mars" });
    await expectErrorFrame(scenario.offender, "SOORMA_ERR_FRAME_UNKNOWN_TYPE", { req_id: "u-1" });
    await expectStillHealthy(scenario);
  } finally {
    await scenario.close();
  }
});
