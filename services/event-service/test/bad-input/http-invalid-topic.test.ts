import { expect, it } from "vitest";
import { testEvent } from "../gateway/harness.js";
import { badInputScenario, expectStillHealthy, postRaw, singleSocketAgent } from "./scenario.js";

it("bad input (http) - an invalid topic or response_topic is 422 SOORMA_ERR_TOPIC_INVALID", async () => {
  const scenario = await badInputScenario();
  const agent = singleSocketAgent();
  try {
    const url = `${scenario.gateway.httpUrl}/v1/events/publish`;
    const badTopic = await postRaw(agent, url, JSON.stringify({ event: testEvent("Not_A_Topic") }));
    expect(badTopic.status).toBe(422);
    expect(badTopic.body).toMatchObject({
      success: false,
      error: { code: "SOORMA_ERR_TOPIC_INVALID", details: [{ path: "event.topic" }] },
    });
    const badResponseTopic = await postRaw(
      agent,
      url,
      JSON.stringify({ event: testEvent(scenario.topic, "x.y", { response_topic: "a..b" }) }),
    );
    expect(badResponseTopic.status).toBe(422);
    expect(badResponseTopic.body).toMatchObject({ error: { code: "SOORMA_ERR_TOPIC_INVALID" } });
    const good = await postRaw(
      agent,
      url,
      JSON.stringify({ event: testEvent(scenario.topic, "http.after") }),
    );
    expect(good).toMatchObject({ status: 200, reusedSocket: true });
    await expectStillHealthy(scenario, { alsoAccepted: [(good.body as { event_id: string }).event_id] });
  } finally {
    agent.destroy();
    await scenario.close();
  }
});
