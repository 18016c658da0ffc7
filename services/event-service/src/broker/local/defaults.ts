/**
 * Default dedupe window of the adapters that keep their own (memory, SQLite): JetStream's `duplicate_window`
 * default, so a retried publish behaves the same on every adapter.
 */
export const DEFAULT_DEDUPE_WINDOW_MS = 120_000;
