import { expect, it } from "vitest";
import { testEvent } from "../gateway/harness.js";
import { badInputScenario, expectErrorFrame, expectStillHealthy } from "./scenario.js";

it("bad input (ws) - a frame above max_message_bytes gets SOORMA_ERR_MESSAGE_TOO_LARGE and the connection stays open", async () => {
  const scenario = await badInputScenario({ config: { maxMessageBytes: 4096 } });
  try {
    const event = testEvent(scenario.topic, "too.big", { id: "too-big", data: { blob: "x".repeat(5000) } });
    scenario.offender.send({ type: "publish", req_id: "big-1", event });
    const frame = await expectErrorFrame(scenario.offender, "SOORMA_ERR_MESSAGE_TOO_LARGE", {
      req_id: "big-1",
    });
    expect(frame.details).toMatchObject({ limit: 4096 });
    // Just under the limit is still accepted on the same connection.
    const fits = await scenario.offender.publish(
      testEvent(scenario.topic, "fits", { data: { blob: "x".repeat(3000) } }),
    );
    expect(fits.duplicate).toBe(false);
    await expectStillHealthy(scenario, { alsoAccepted: [fits.event_id] });
  } finally {
    await scenario.close();
  }
});
