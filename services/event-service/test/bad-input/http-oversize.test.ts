import { expect, it } from "vitest";
import { testEvent } from "../gateway/harness.js";
import { badInputScenario, expectStillHealthy, postRaw, singleSocketAgent } from "./scenario.js";

it("bad input (http) - a body above the default 1 MiB limit is 413 SOORMA_ERR_MESSAGE_TOO_LARGE", async () => {
  const scenario = await badInputScenario();
  const agent = singleSocketAgent();
  try {
    expect(scenario.gateway.app.soorma.config.maxMessageBytes).toBe(1_048_576);
    const url = `${scenario.gateway.httpUrl}/v1/events/publish`;
    const body = JSON.stringify({
      event: testEvent(scenario.topic, "too.big", { data: { blob: "x".repeat(1_100_000) } }),
    });
    const tooBig = await postRaw(agent, url, body);
    expect(tooBig.status).toBe(413);
    expect(tooBig.body).toMatchObject({ success: false, error: { code: "SOORMA_ERR_MESSAGE_TOO_LARGE" } });
    const good = await postRaw(
      agent,
      url,
      JSON.stringify({ event: testEvent(scenario.topic, "http.after") }),
    );
    expect(good.status).toBe(200);
    await expectStillHealthy(scenario, { alsoAccepted: [(good.body as { event_id: string }).event_id] });
  } finally {
    agent.destroy();
    await scenario.close();
  }
});
