import { TimeoutError } from "@soorma/common";

/**
 * Pairs each published event with the moment a consumer handled it. The publisher registers the id before it
 * publishes (a handler may run before the publish confirmation arrives), the consumer reports the id when it
 * handles the event, and the publisher learns the handling time.
 */
export class Completions {
  /** @type {Map<string, { resolve: (handledAt: number) => void, reject: (error: Error) => void, timer: NodeJS.Timeout }>} */
  #waiting = new Map();
  /** Handled events nobody waited for: redeliveries, or events whose waiter had already given up. */
  unexpected = 0;

  /**
   * Wait until `id` is handled; resolves with the `performance.now()` of the handling.
   * @param {string} id
   * @param {number} timeoutMs - reject with `TimeoutError` when the event is not handled by then
   * @returns {Promise<number>}
   */
  wait(id, timeoutMs) {
    // Created now so its stack names the lane that waited, not the timer.
    const timeoutError = new TimeoutError(`event ${id} was not handled within ${timeoutMs} ms`);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#waiting.delete(id);
        reject(timeoutError);
      }, timeoutMs);
      this.#waiting.set(id, { resolve, reject, timer });
    });
  }

  /**
   * A consumer handled `id` now.
   * @param {string} id
   */
  complete(id) {
    const handledAt = performance.now();
    const waiter = this.#waiting.get(id);
    if (waiter === undefined) {
      this.unexpected++;
      return;
    }
    this.#waiting.delete(id);
    clearTimeout(waiter.timer);
    waiter.resolve(handledAt);
  }

  /**
   * Stop waiting for `id` without an error (its publish failed and the caller reports that instead).
   * @param {string} id
   */
  forget(id) {
    const waiter = this.#waiting.get(id);
    if (waiter === undefined) return;
    this.#waiting.delete(id);
    clearTimeout(waiter.timer);
  }

  /**
   * Reject every waiter, e.g. when the consumer loop died, so the run fails at once instead of at its timeouts.
   * @param {Error} error
   */
  failAll(error) {
    for (const [id, waiter] of this.#waiting) {
      this.#waiting.delete(id);
      clearTimeout(waiter.timer);
      waiter.reject(error);
    }
  }
}
