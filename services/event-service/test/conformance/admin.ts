import { RemoteError, TimeoutError } from "@soorma/common";
import { waitFor } from "@soorma/test-utils";

/** One member as `GET /v1/admin/groups` lists it. */
export interface AdminMember {
  readonly agent_id: string;
  readonly connection_id: string;
  readonly prefetch: number;
  readonly in_flight: number;
  readonly topics: readonly string[];
}

/** One consumer group as `GET /v1/admin/groups` lists it. */
export interface AdminGroup {
  readonly tenant: string;
  readonly group: string;
  readonly members: readonly AdminMember[];
  /** `pending` is absent or null when the broker cannot tell. */
  readonly topics: readonly { readonly topic: string; readonly pending?: number | null }[];
}

/** Read the gateway's view of every consumer group. */
export async function readGroups(httpUrl: string): Promise<AdminGroup[]> {
  const response = await fetch(`${httpUrl}/v1/admin/groups`, { signal: AbortSignal.timeout(5_000) });
  if (response.status !== 200) {
    throw new RemoteError(
      "SOORMA_ERR_INTERNAL",
      `GET /v1/admin/groups answered ${response.status}: ${await response.text()}`,
    );
  }
  const body = (await response.json()) as { groups: AdminGroup[] };
  return body.groups;
}

/**
 * Resolve once the group's inbox for `topic` is settled: nothing pending in the broker (ready, delayed or
 * leased) and no member holds an un-settled delivery. After that nothing can be redelivered, so a test may
 * assert "handled exactly once" without waiting an arbitrary time for duplicates that would come late.
 * Brokers that cannot count pending messages are judged on in-flight deliveries alone.
 */
export async function waitForInboxSettled(
  httpUrl: string,
  group: string,
  topic: string,
  timeoutMs: number,
): Promise<void> {
  let last = "no answer";
  try {
    await waitFor(
      async () => {
        const groups = await readGroups(httpUrl);
        const entry = groups.find((g) => g.group === group);
        const inbox = entry?.topics.find((t) => t.topic === topic);
        last = JSON.stringify(entry ?? null);
        if (entry === undefined || inbox === undefined) return false;
        const pendingSettled = inbox.pending === undefined || inbox.pending === null || inbox.pending === 0;
        return pendingSettled && entry.members.every((m) => m.in_flight === 0);
      },
      { timeoutMs, intervalMs: 50 },
    );
  } catch (cause) {
    throw new TimeoutError(
      `inbox ${group}/${topic} not settled within ${timeoutMs} ms; admin API says ${last}`,
      { cause },
    );
  }
}
