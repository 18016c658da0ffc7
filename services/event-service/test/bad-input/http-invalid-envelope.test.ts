import { expect, it } from "vitest";
import { testEvent } from "../gateway/harness.js";
import { badInputScenario, expectStillHealthy, postRaw, singleSocketAgent } from "./scenario.js";

it("bad input (http) - an invalid envelope is 422 SOORMA_ERR_ENVELOPE_INVALID with the failing fields", async () => {
  const scenario = await badInputScenario();
  const agent = singleSocketAgent();
  try {
    const url = `${scenario.gateway.httpUrl}/v1/events/publish`;
    const noSource = await postRaw(
      agent,
      url,
      JSON.stringify({ event: { type: "x.y", topic: scenario.topic } }),
    );
    expect(noSource.status).toBe(422);
    expect(noSource.body).toMatchObject({
      success: false,
      error: { code: "SOORMA_ERR_ENVELOPE_INVALID", details: [{ path: "event.source" }] },
    });
    const noEvent = await postRaw(agent, url, JSON.stringify({ source: "x", type: "x.y" }));
    expect(noEvent.status).toBe(422);
    expect(noEvent.body).toMatchObject({ error: { code: "SOORMA_ERR_ENVELOPE_INVALID" } });
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
