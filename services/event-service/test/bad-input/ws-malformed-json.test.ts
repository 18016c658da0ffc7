import { expect, it } from "vitest";
import { badInputScenario, expectErrorFrame, expectStillHealthy } from "./scenario.js";

it("bad input (ws) - malformed JSON gets SOORMA_ERR_BAD_JSON and the connection keeps working", async () => {
  const scenario = await badInputScenario();
  try {
    scenario.offender.send('{"type": "publish", "req_id": ');
    const frame = await expectErrorFrame(scenario.offender, "SOORMA_ERR_BAD_JSON");
    expect(frame.req_id).toBeUndefined();
    await expectStillHealthy(scenario);
  } finally {
    await scenario.close();
  }
});
