import { PROTOCOL_VERSION } from "@soorma/common";
import { expect, it } from "vitest";
import { badInputScenario, expectErrorFrame, expectStillHealthy } from "./scenario.js";

it("bad input (ws) - a second hello gets SOORMA_ERR_HELLO_REPEATED and the first session stays", async () => {
  const scenario = await badInputScenario();
  try {
    scenario.offender.send({ type: "hello", protocol: PROTOCOL_VERSION, agent_id: "someone-else" });
    await expectErrorFrame(scenario.offender, "SOORMA_ERR_HELLO_REPEATED");
    expect(scenario.offender.received.filter((f) => f.type === "welcome")).toHaveLength(1);
    await expectStillHealthy(scenario);
  } finally {
    await scenario.close();
  }
});
