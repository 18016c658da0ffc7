import { TimeoutError } from "@soorma/common";
import type { EventEnvelope } from "@soorma/sdk";
import { waitFor } from "@soorma/test-utils";

/** One handler invocation as a test saw it. */
export interface HandledRecord {
  /** Which member (agent id, or a label the test chose) handled it. */
  readonly member: string;
  readonly eventId: string;
  readonly attempt: number;
  readonly topic: string;
  readonly type: string;
  readonly event: EventEnvelope;
}

/**
 * Counts what handlers saw, so tests compare published with handled after de-duplicating by event id, and can
 * still tell whether anything arrived twice.
 */
export class Recorder {
  readonly #records: HandledRecord[] = [];

  /** Every record, in arrival order. */
  get records(): readonly HandledRecord[] {
    return this.#records;
  }

  /** Record one handler invocation. */
  record(member: string, event: EventEnvelope, delivery: { attempt: number; topic: string }): void {
    this.#records.push({
      member,
      eventId: event.id,
      attempt: delivery.attempt,
      topic: delivery.topic,
      type: event.type,
      event,
    });
  }

  /** Distinct event ids seen. */
  uniqueIds(): Set<string> {
    return new Set(this.#records.map((r) => r.eventId));
  }

  /** Records of one event id. */
  of(eventId: string): HandledRecord[] {
    return this.#records.filter((r) => r.eventId === eventId);
  }

  /** Event ids seen more than once, with their counts. */
  duplicates(): Map<string, number> {
    const counts = new Map<string, number>();
    for (const r of this.#records) counts.set(r.eventId, (counts.get(r.eventId) ?? 0) + 1);
    return new Map([...counts].filter(([, n]) => n > 1));
  }

  /** Distinct event ids per member. */
  idsByMember(): Map<string, Set<string>> {
    const byMember = new Map<string, Set<string>>();
    for (const r of this.#records) {
      const ids = byMember.get(r.member) ?? new Set<string>();
      ids.add(r.eventId);
      byMember.set(r.member, ids);
    }
    return byMember;
  }

  /** Resolve once every id in `ids` was handled at least once; the error says how many never were. */
  async waitForIds(ids: Iterable<string>, timeoutMs: number, what = "events"): Promise<void> {
    const wanted = [...ids];
    const missing = () => {
      const seen = this.uniqueIds();
      return wanted.filter((id) => !seen.has(id)).length;
    };
    try {
      await waitFor(() => missing() === 0, { timeoutMs });
    } catch (cause) {
      throw new TimeoutError(
        `${what}: ${missing()} of ${wanted.length} never handled within ${timeoutMs} ms`,
        {
          cause,
        },
      );
    }
  }
}
