/** A handler run the agent is waiting for. */
export interface InFlightHandler {
  /** Aborts the handler's `ctx.signal`. */
  readonly controller: AbortController;
  /** Settles when the handler has finished and its delivery was settled. */
  readonly done: Promise<void>;
  /** Settle the delivery on the handler's behalf (forced stop), after which the handler's own outcome is ignored. */
  readonly release: () => void;
}

/** Handlers currently running, so stop() can wait for them or abort them. */
export class InFlightHandlers {
  readonly #running = new Map<string, InFlightHandler>();
  readonly #idleWaiters = new Set<() => void>();

  /** Number of running handlers. */
  get size(): number {
    return this.#running.size;
  }

  /** Track a handler run under its delivery id; it untracks itself when `done` settles. */
  add(deliveryId: string, handler: InFlightHandler): void {
    this.#running.set(deliveryId, handler);
    void handler.done.finally(() => {
      if (this.#running.get(deliveryId) !== handler) return;
      this.#running.delete(deliveryId);
      if (this.#running.size === 0) for (const wake of [...this.#idleWaiters]) wake();
    });
  }

  /** Resolve true once no handler runs, or false when `timeoutMs` passes or `signal` aborts first. */
  waitForIdle(timeoutMs: number, signal?: AbortSignal): Promise<boolean> {
    if (this.#running.size === 0) return Promise.resolve(true);
    if (signal?.aborted) return Promise.resolve(false);
    return new Promise((resolve) => {
      const finish = (idle: boolean): void => {
        clearTimeout(timer);
        this.#idleWaiters.delete(onIdle);
        signal?.removeEventListener("abort", onAbort);
        resolve(idle);
      };
      const onIdle = (): void => finish(true);
      const onAbort = (): void => finish(false);
      const timer = setTimeout(() => finish(false), timeoutMs);
      this.#idleWaiters.add(onIdle);
      signal?.addEventListener("abort", onAbort, { once: true });
    });
  }

  /** Abort every running handler and settle its delivery for it. */
  abortAll(reason: unknown): void {
    for (const handler of this.#running.values()) {
      handler.release();
      handler.controller.abort(reason);
    }
  }
}
