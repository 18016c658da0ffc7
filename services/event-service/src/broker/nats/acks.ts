import type { NatsConnection } from "@nats-io/transport-node";
import { BrokerUnavailableError } from "@soorma/common";
import { toBrokerError, withTimeout } from "./errors.js";

/**
 * Sends JetStream acknowledgements for messages pulled by this connection: the payloads a JetStream server
 * expects on a message's reply subject (`+ACK`, `-NAK`, `+WPI`, `+TERM`).
 *
 * `ack` waits for the server's confirmation ("double ack"), so a resolved ack means the message is gone for
 * good. `nak` and `working` are confirmed by a flush (the server has read them). All of them reject at once
 * with `BrokerUnavailableError` while the connection is down: the client would otherwise buffer them and the
 * caller could not tell whether they arrived; the lease then runs out and the broker redelivers.
 */
export class AckChannel {
  readonly #nc: NatsConnection;
  readonly #isConnected: () => boolean;
  readonly #timeoutMs: number;

  /**
   * @param nc - the connection the messages were pulled on
   * @param isConnected - true while the connection is up
   * @param timeoutMs - how long to wait for the server's confirmation
   */
  constructor(nc: NatsConnection, isConnected: () => boolean, timeoutMs: number) {
    this.#nc = nc;
    this.#isConnected = isConnected;
    this.#timeoutMs = timeoutMs;
  }

  /** Acknowledge and wait until the server confirmed it. */
  async ack(replySubject: string): Promise<void> {
    this.#assertConnected("ack");
    try {
      await this.#nc.request(replySubject, "+ACK", { timeout: this.#timeoutMs });
    } catch (error) {
      throw toBrokerError(error, "ack");
    }
  }

  /** Negative-acknowledge: redeliver after `delayMs` (at once when 0). */
  async nak(replySubject: string, delayMs: number): Promise<void> {
    const delayNanos = Math.max(0, Math.round(delayMs)) * 1_000_000;
    await this.#send(
      replySubject,
      delayNanos > 0 ? `-NAK ${JSON.stringify({ delay: delayNanos })}` : "-NAK",
      "nak",
    );
  }

  /** Work in progress: restart the message's ack wait. */
  async working(replySubject: string): Promise<void> {
    await this.#send(replySubject, "+WPI", "in-progress");
  }

  /** Never deliver this message again (it cannot be decoded). Best effort: a lost term means one redelivery. */
  term(replySubject: string): void {
    if (this.#isConnected()) this.#nc.publish(replySubject, "+TERM");
  }

  async #send(replySubject: string, payload: string, what: string): Promise<void> {
    this.#assertConnected(what);
    try {
      this.#nc.publish(replySubject, payload);
      await withTimeout(this.#nc.flush(), this.#timeoutMs, what);
    } catch (error) {
      throw toBrokerError(error, what);
    }
  }

  #assertConnected(what: string): void {
    if (!this.#isConnected()) {
      throw new BrokerUnavailableError(
        `NATS: cannot ${what} while disconnected; the lease will run out instead`,
      );
    }
  }
}
