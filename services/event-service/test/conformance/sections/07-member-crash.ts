import { randomUUID } from "node:crypto";
import { DEAD_LETTER_TOPIC, type EventEnvelope } from "@soorma/sdk";
import { deferred, withDeadline } from "@soorma/test-utils";
import { describe, expect, it } from "vitest";
import { waitForInboxSettled } from "../admin.js";
import { type ConformanceContext, SUITE_MAX_ATTEMPTS } from "../context.js";
import { uniqueEventType, uniqueName } from "../names.js";
import { Recorder } from "../recorder.js";

/** Section 7: a member process that dies mid-handler loses nothing: another member handles the event. */
export function memberCrashSection(ctx: ConformanceContext): void {
  describe("7. member crash", () => {
    it("member crash - a member process killed with SIGKILL mid-handler: another member handles the event", async () => {
      const topic = uniqueName("crash");
      const type = uniqueEventType();
      const group = uniqueName("crash-group");
      const doomed = ctx.spawnMember({ gateway: ctx.gateway, group, topic, eventType: type, mode: "hang" });
      await doomed.waitForLine((line) => line.event === "ready", {
        timeoutMs: ctx.ms(15_000),
        message: "ready line of the member process",
      });

      const publisher = ctx.client();
      await publisher.connect();
      const { event_id: id } = await publisher.publish({ event_type: type, topic, data: { work: "long" } });
      const handling = await doomed.waitForLine((line) => line.event === "handling" && line.id === id, {
        timeoutMs: ctx.ms(10_000),
        message: "the member process starting the handler",
      });
      expect(handling.attempt).toBe(1);

      // The survivor joins only now, so the first delivery certainly went to the member that is about to die.
      const recorder = new Recorder();
      const survivor = ctx.worker({ name: group });
      survivor.onEvent(type, { topic }, (event, handling) =>
        recorder.record(survivor.id, event, handling.delivery),
      );
      await survivor.start();
      const exit = await doomed.kill("SIGKILL");
      expect(exit.signal).toBe("SIGKILL");

      await recorder.waitForIds([id], ctx.ms(15_000), "event of the killed member");
      await waitForInboxSettled(ctx.gateway.httpUrl, group, topic, ctx.ms(10_000));
      expect(recorder.of(id).map((r) => r.attempt)).toEqual([2]);
      expect(doomed.output.json.some((line) => line.event === "handled")).toBe(false);
    });

    it("member crash - an event whose every attempt died with its member is dead-lettered, not delivered again", async () => {
      const topic = uniqueName("crash-dl");
      const type = uniqueEventType();
      const group = uniqueName("crash-dl-group");
      const id = randomUUID();
      const letter = deferred<EventEnvelope>();
      const auditor = ctx.agent({ name: uniqueName("crash-dl-auditor") });
      auditor.onEvent("*", { topic: DEAD_LETTER_TOPIC }, (event) => {
        if ((event.data?.event as { id?: string } | undefined)?.id === id) letter.resolve(event);
      });
      await auditor.start();

      const spawnReady = async () => {
        const member = ctx.spawnMember({ gateway: ctx.gateway, group, topic, eventType: type, mode: "hang" });
        await member.waitForLine((line) => line.event === "ready", { timeoutMs: ctx.ms(15_000) });
        return member;
      };
      const publisher = ctx.client();
      await publisher.connect();
      let holder = await spawnReady();
      await publisher.publish({ id, event_type: type, topic });
      // Every attempt goes to a member process that is then killed; the next one is ready before the kill.
      for (let attempt = 1; attempt <= SUITE_MAX_ATTEMPTS; attempt++) {
        const line = await holder.waitForLine((l) => l.event === "handling" && l.id === id, {
          timeoutMs: ctx.ms(10_000),
          message: `attempt ${attempt} reaching a member process`,
        });
        expect(line.attempt).toBe(attempt);
        const next = attempt < SUITE_MAX_ATTEMPTS ? await spawnReady() : undefined;
        await holder.kill("SIGKILL");
        if (next !== undefined) holder = next;
      }

      // A healthy member joins: the exhausted event must go to dead-letters instead of to it.
      const recorder = new Recorder();
      const healthy = ctx.worker({ name: group });
      healthy.onEvent(type, { topic }, (event, handling) =>
        recorder.record(healthy.id, event, handling.delivery),
      );
      await healthy.start();

      const deadLetter = await withDeadline(
        letter.promise,
        ctx.ms(10_000),
        "dead letter of the exhausted event",
      );
      expect(deadLetter.data).toMatchObject({ group, topic, attempts: SUITE_MAX_ATTEMPTS });
      await waitForInboxSettled(ctx.gateway.httpUrl, group, topic, ctx.ms(10_000));
      expect(recorder.of(id)).toEqual([]);
    });
  });
}
