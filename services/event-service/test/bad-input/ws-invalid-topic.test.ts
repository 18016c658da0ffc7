import { expect, it } from "vitest";
import { testEvent } from "../gateway/harness.js";
import { badInputScenario, expectErrorFrame, expectStillHealthy } from "./scenario.js";

it("bad input (ws) - an invalid topic in subscribe and in publish gets SOORMA_ERR_TOPIC_INVALID", async () => {
  const scenario = await badInputScenario();
  try {
    scenario.offender.send({ type: "subscribe", req_id: "sub-bad", topic: "Bad.Topic" });
    await expectErrorFrame(scenario.offender, "SOORMA_ERR_TOPIC_INVALID", { req_id: "sub-bad" });
    scenario.offender.send({ type: "publish", req_id: "pub-bad", event: testEvent("UPPER_case") });
    await expectErrorFrame(scenario.offender, "SOORMA_ERR_TOPIC_INVALID", { req_id: "pub-bad" });
    scenario.offender.send({
      type: "publish",
      req_id: "resp-bad",
      event: testEvent(scenario.topic, "x.y", { response_topic: "no spaces allowed" }),
    });
    await expectErrorFrame(scenario.offender, "SOORMA_ERR_TOPIC_INVALID", { req_id: "resp-bad" });
    const inboxes = await scenario.gateway.adapter.listInboxes();
    expect(inboxes.some((i) => i.key.topic === "Bad.Topic")).toBe(false);
    await expectStillHealthy(scenario);
  } finally {
    await scenario.close();
  }
});
