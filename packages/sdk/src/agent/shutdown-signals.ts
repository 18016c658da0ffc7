/** Signals that ask an agent process to stop. */
const SHUTDOWN_SIGNALS = ["SIGINT", "SIGTERM"] as const;

/** One of {@link SHUTDOWN_SIGNALS}. */
export type ShutdownSignal = (typeof SHUTDOWN_SIGNALS)[number];

/**
 * Call `onSignal` on SIGINT/SIGTERM with the number of signals seen so far (a second one usually means "now").
 * Returns the function that removes the listeners, so a stopped agent leaves the process as it found it.
 */
export function onShutdownSignals(onSignal: (signal: ShutdownSignal, count: number) => void): () => void {
  let count = 0;
  const listeners = SHUTDOWN_SIGNALS.map((signal) => {
    const listener = (): void => {
      count += 1;
      onSignal(signal, count);
    };
    process.on(signal, listener);
    return () => process.off(signal, listener);
  });
  return () => {
    for (const remove of listeners) remove();
  };
}
