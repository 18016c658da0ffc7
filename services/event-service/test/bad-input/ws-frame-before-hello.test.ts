import { it } from "vitest";
import { randomName } from "../gateway/harness.js";
import { badInputScenario, expectErrorFrame, expectStillHealthy } from "./scenario.js";

it("bad input (ws) - a frame before hello gets SOORMA_ERR_HELLO_REQUIRED; hello afterwards still works", async () => {
  const scenario = await badInputScenario({ helloOffender: false });
  try {
    scenario.offender.send({ type: "subscribe", req_id: "early-1", topic: scenario.topic });
    await expectErrorFrame(scenario.offender, "SOORMA_ERR_HELLO_REQUIRED", { req_id: "early-1" });
    scenario.offender.send({ type: "ack", delivery_id: "early-delivery" });
    await expectErrorFrame(scenario.offender, "SOORMA_ERR_HELLO_REQUIRED", { delivery_id: "early-delivery" });
    await scenario.offender.hello({ agent_name: randomName("late") });
    await expectStillHealthy(scenario);
  } finally {
    await scenario.close();
  }
});
