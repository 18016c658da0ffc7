import { expect, it } from "vitest";
import { testEvent } from "../gateway/harness.js";
import { badInputScenario, expectStillHealthy, postRaw, singleSocketAgent } from "./scenario.js";

it("bad input (http) - a malformed JSON body is 400 SOORMA_ERR_BAD_JSON and the same HTTP connection still publishes", async () => {
  const scenario = await badInputScenario();
  const agent = singleSocketAgent();
  try {
    const url = `${scenario.gateway.httpUrl}/v1/events/publish`;
    const bad = await postRaw(agent, url, '{"event": {"source": "x",');
    expect(bad.status).toBe(400);
    expect(bad.body).toMatchObject({ success: false, error: { code: "SOORMA_ERR_BAD_JSON" } });
    const good = await postRaw(
      agent,
      url,
      JSON.stringify({ event: testEvent(scenario.topic, "http.after") }),
    );
    expect(good).toMatchObject({ status: 200, reusedSocket: true, body: { success: true } });
    await expectStillHealthy(scenario, { alsoAccepted: [(good.body as { event_id: string }).event_id] });
  } finally {
    agent.destroy();
    await scenario.close();
  }
});
