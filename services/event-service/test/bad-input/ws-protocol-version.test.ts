import { PROTOCOL_VERSION } from "@soorma/common";
import { expect, it } from "vitest";
import { randomName } from "../gateway/harness.js";
import { badInputScenario, expectErrorFrame, expectStillHealthy } from "./scenario.js";

it("bad input (ws) - an unsupported protocol version gets SOORMA_ERR_PROTOCOL_VERSION; a supported hello then works", async () => {
  const scenario = await badInputScenario({ helloOffender: false });
  try {
    scenario.offender.send({ type: "hello", protocol: PROTOCOL_VERSION + 41, agent_id: "from-the-future" });
    const frame = await expectErrorFrame(scenario.offender, "SOORMA_ERR_PROTOCOL_VERSION");
    expect(frame.details).toEqual({ supported: [PROTOCOL_VERSION] });
    const welcome = await scenario.offender.hello({ agent_name: randomName("retry") });
    expect(welcome.protocol).toBe(PROTOCOL_VERSION);
    await expectStillHealthy(scenario);
  } finally {
    await scenario.close();
  }
});
