import type { PublishOptions, PublishResult } from "@soorma/sdk";

/** Anything that publishes like the SDK: `EventBusClient`, `Agent`, `Worker`. */
export interface Publisher {
  publish(options: PublishOptions): Promise<PublishResult>;
}

/**
 * Publish `count` events made by `make(i)`, at most `concurrency` unconfirmed at a time, and resolve with their
 * ids in order once every publish is confirmed (stored by the broker). Any rejection rejects the whole batch.
 */
export async function publishMany(
  publisher: Publisher,
  count: number,
  make: (index: number) => PublishOptions,
  concurrency = 32,
): Promise<string[]> {
  const ids: string[] = new Array(count);
  let next = 0;
  const lane = async () => {
    while (next < count) {
      const index = next++;
      const result = await publisher.publish(make(index));
      ids[index] = result.event_id;
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, count) }, lane));
  return ids;
}
