import fc from "fast-check";

/**
 * Arbitraries that damage valid client frames, shared by the decoder's fuzz test and the live fuzz test against
 * a gateway: each test keeps its own valid frames, these say how to break them.
 */

/**
 * Field names a client frame or its event may carry, plus the keys that would pollute a prototype: what the
 * mutations set or remove.
 */
export const FRAME_FIELD_NAMES: readonly string[] = [
  "type",
  "req_id",
  "topic",
  "event",
  "agent_id",
  "agent_name",
  "prefetch",
  "auth",
  "protocol",
  "delivery_id",
  "delay_ms",
  "error",
  "event_types",
  "id",
  "source",
  "data",
  "response_topic",
  "platform_tenant_id",
  "__proto__",
  "constructor",
];

/**
 * Text of one of `frames` with a few fields (names from {@link FRAME_FIELD_NAMES}) set to arbitrary JSON or
 * removed, at the top level or inside the frame's `event`.
 */
export function mutatedObjectFrame(frames: readonly object[]): fc.Arbitrary<string> {
  return fc
    .tuple(
      fc.constantFrom(...frames),
      fc.array(
        fc.tuple(
          fc.boolean(),
          fc.constantFrom(...FRAME_FIELD_NAMES),
          fc.option(fc.jsonValue({ maxDepth: 3 })),
        ),
        { minLength: 1, maxLength: 4 },
      ),
    )
    .map(([frame, edits]) => {
      const copy = structuredClone(frame) as Record<string, unknown>;
      for (const [inEvent, field, value] of edits) {
        const target =
          inEvent && typeof copy.event === "object" && copy.event !== null
            ? (copy.event as Record<string, unknown>)
            : copy;
        if (value === null) delete target[field];
        // defineProperty so that "__proto__" becomes an own key and reaches the JSON text.
        else
          Object.defineProperty(target, field, {
            value,
            enumerable: true,
            configurable: true,
            writable: true,
          });
      }
      return JSON.stringify(copy);
    });
}

/** One of `texts` (valid frames' text) cut, spliced or overwritten at a random position. */
export function mutatedFrameText(texts: readonly string[]): fc.Arbitrary<string> {
  return fc
    .tuple(
      fc.constantFrom(...texts),
      fc.nat(),
      fc.string({ unit: "binary", maxLength: 8 }),
      fc.constantFrom("truncate", "insert", "overwrite"),
    )
    .map(([text, at, chunk, how]) => {
      const i = at % (text.length + 1);
      if (how === "truncate") return text.slice(0, i);
      if (how === "insert") return text.slice(0, i) + chunk + text.slice(i);
      return text.slice(0, i) + chunk + text.slice(i + chunk.length);
    });
}
