import { BrokerUnavailableError, SoormaError } from "@soorma/common";
import type { BrokerAdapter, BrokerMessage, InboxConsumer, InboxKey } from "../broker/adapter.js";
import { CreditReservation } from "./credit-reservation.js";
import type { CoreLogger } from "./logger.js";
import type { Member } from "./member.js";
import { brokerRetryDelayMs, type RetryPolicy } from "./retry-policy.js";
import type { Settler } from "./settler.js";
import { nextTurn, sleep } from "./timers.js";

/** Default longest wait of one idle pull. */
export const DEFAULT_PULL_WAIT_MS = 1000;

/**
 * An idle pull that comes back empty faster than this (an adapter ignoring `waitMs`) is followed by a short
 * pause, so a misbehaving adapter cannot turn the pump into a busy loop.
 */
const MIN_EMPTY_PULL_MS = 20;
const EMPTY_PULL_PAUSE_MS = 50;

/** Options of {@link InboxPump}. */
export interface InboxPumpOptions {
  /** The inbox this pump drains. */
  readonly key: InboxKey;
  readonly adapter: BrokerAdapter;
  readonly settler: Settler;
  readonly policy: RetryPolicy;
  readonly logger: CoreLogger;
  /** Broker-side lease of pulled messages; parked messages are touched at half this interval. */
  readonly leaseMs: number;
  /** `maxInFlight` handed to `openInbox`. */
  readonly maxInFlight: number;
  /** Longest wait of one idle pull. @default 1000 */
  readonly pullWaitMs?: number;
  /**
   * Hand `message` to `member` (one of the pump's credits of it is already counted as held). `onSettled` must be
   * called exactly once when the delivery is acked, nacked, expired or released.
   */
  readonly deliver: (member: Member, message: BrokerMessage, onSettled: () => void) => void;
}

/** A pulled message waiting for a credit of a member that handles its type. */
interface ParkedMessage {
  readonly message: BrokerMessage;
  readonly keepAlive: NodeJS.Timeout;
}

type PumpState = "idle" | "opening" | "running" | "stopping" | "stopped";

/**
 * The loop of one inbox `(tenant, group, topic)` in this gateway process, alive while at least one local member
 * subscribes the topic.
 *
 * Each turn reserves free credits of the members, pulls at most that many messages, assigns each to the reserved
 * member with the most free credits that handles its event type (round-robin on ties) and releases what is left.
 * With no free credit at all the pump waits for a "credits freed" signal from its members instead of pulling.
 * An idle pump reserves one credit per member and waits in `pull` (up to `pullWaitMs`); once messages flow it
 * pulls with all free credits and no wait, until the inbox is empty again.
 */
export class InboxPump {
  readonly key: InboxKey;
  private readonly options: InboxPumpOptions;
  private readonly pullWaitMs: number;
  private readonly members: Member[] = [];
  private state: PumpState = "idle";
  private consumer: InboxConsumer | undefined;
  private readonly stopController = new AbortController();
  private pullController: AbortController | undefined;
  private wakeWaiter: (() => void) | undefined;
  private readonly parked: ParkedMessage[] = [];
  private cursor = 0;
  private outstanding = 0;
  private readonly settledWaiters: Array<() => void> = [];
  private opened: Promise<void> | undefined;
  private loop: Promise<void> = Promise.resolve();
  private stopped: Promise<void> | undefined;
  private shutDown: Promise<void> | undefined;

  constructor(options: InboxPumpOptions) {
    this.key = options.key;
    this.options = options;
    this.pullWaitMs = options.pullWaitMs ?? DEFAULT_PULL_WAIT_MS;
  }

  /** Open the broker consumer and start the loop. Rejects with `BrokerUnavailableError` when opening fails. */
  start(): Promise<void> {
    this.opened ??= this.open();
    return this.opened;
  }

  /** Members currently served, in round-robin order. */
  get memberCount(): number {
    return this.members.length;
  }

  /** Deliveries of this pump not settled yet. */
  get inFlight(): number {
    return this.outstanding;
  }

  /** True once {@link stop} was called. */
  get isStopping(): boolean {
    return this.state === "stopping" || this.state === "stopped";
  }

  /** Serve `member` too; its credits count from the next turn on (an idle pull is cut short for it). */
  addMember(member: Member): void {
    if (!this.members.includes(member)) this.members.push(member);
    this.pullController?.abort();
    this.wake();
  }

  /** Stop serving `member`. Returns how many members are left. */
  removeMember(member: Member): number {
    const index = this.members.indexOf(member);
    if (index !== -1) {
      this.members.splice(index, 1);
      if (this.cursor > index) this.cursor -= 1;
      if (this.cursor >= this.members.length) this.cursor = 0;
    }
    this.wake();
    return this.members.length;
  }

  /** Re-evaluate parked messages and credits (a member changed the event types it handles). */
  wake(): void {
    this.wakeWaiter?.();
  }

  /**
   * Stop pulling: cut a waiting pull short, let the current turn finish, give parked messages back. Deliveries
   * already made stay with their members. Idempotent.
   */
  stop(): Promise<void> {
    this.stopped ??= this.stopPulling();
    return this.stopped;
  }

  /** Stop, wait until every delivery of this pump is settled, then close the broker consumer. Idempotent. */
  shutdown(): Promise<void> {
    this.shutDown ??= (async () => {
      await this.stop();
      await this.whenSettled();
      await this.consumer?.close().catch((error: unknown) => {
        this.options.logger.warn({ ...this.key, err: error }, "closing an inbox consumer failed");
      });
    })();
    return this.shutDown;
  }

  private async open(): Promise<void> {
    this.state = "opening";
    try {
      this.consumer = await this.options.adapter.openInbox(this.key, {
        leaseMs: this.options.leaseMs,
        maxInFlight: this.options.maxInFlight,
      });
    } catch (error) {
      this.state = "stopped";
      throw error instanceof SoormaError
        ? error
        : new BrokerUnavailableError("could not open the inbox", { cause: error });
    }
    if (this.state !== "opening") return; // stopped while opening; shutdown() closes the consumer
    this.state = "running";
    this.loop = this.run().catch((error: unknown) => {
      this.options.logger.error({ ...this.key, err: error }, "inbox pump crashed");
    });
  }

  private async stopPulling(): Promise<void> {
    this.state = "stopping";
    this.stopController.abort();
    this.pullController?.abort();
    this.wake();
    await this.opened?.catch(() => undefined);
    await this.loop;
    const parked = this.parked.splice(0);
    await Promise.all(
      parked.map(({ message, keepAlive }) => {
        clearInterval(keepAlive);
        return this.options.settler.release(message, this.key, {
          message: "the gateway stopped serving this inbox before the event was delivered",
          code: "released",
        });
      }),
    );
    this.state = "stopped";
  }

  private async run(): Promise<void> {
    let flowing = false;
    let failures = 0;
    while (this.state === "running") {
      if (this.parked.length > 0) {
        this.placeParked();
        if (this.parked.length > 0) {
          await this.waitForCredits();
          continue;
        }
      }
      const reservation = CreditReservation.take(this.members, flowing ? Number.POSITIVE_INFINITY : 1);
      if (reservation.total === 0) {
        flowing = false;
        await this.waitForCredits();
        continue;
      }
      const waitMs = flowing ? 0 : this.pullWaitMs;
      const controller = new AbortController();
      this.pullController = controller;
      const startedAt = Date.now();
      let messages: BrokerMessage[];
      try {
        messages = await this.consumer!.pull(reservation.total, { waitMs, signal: controller.signal });
        failures = 0;
      } catch (error) {
        reservation.release();
        if (this.state !== "running") break; // the consumer was closed under a stopping pump: nothing to retry
        failures += 1;
        const delayMs = brokerRetryDelayMs(failures);
        this.options.logger.warn({ ...this.key, err: error, failures, retryInMs: delayMs }, "pull failed");
        flowing = false;
        await sleep(delayMs, this.stopController.signal);
        continue;
      } finally {
        this.pullController = undefined;
      }
      for (const message of messages) this.place(message, reservation);
      reservation.release();
      flowing = messages.length > 0;
      if (!flowing) {
        // Let pumps woken by the release reserve first (fairness between topics of the same members).
        await nextTurn();
        if (waitMs > 0 && !controller.signal.aborted && Date.now() - startedAt < MIN_EMPTY_PULL_MS) {
          await sleep(EMPTY_PULL_PAUSE_MS, this.stopController.signal);
        }
      }
    }
  }

  /**
   * Deliver, drop or park one pulled message. Returns false when it had to be parked (members handle its type
   * but none has a free credit).
   */
  private place(message: BrokerMessage, reservation?: CreditReservation): boolean {
    const { settler } = this.options;
    if (this.state !== "running") {
      // Pulled just as the pump was stopped (drain, last member gone): hand it straight back.
      void settler.release(message, this.key, {
        message: "the gateway stopped serving this inbox",
        code: "released",
      });
      return true;
    }
    if (this.options.policy.isExhausted(message.attempt)) {
      void settler.deadLetter(message, this.key, undefined, message.attempt - 1);
      return true;
    }
    const eventType = message.envelope.type;
    const handles = (member: Member): boolean => !member.closed && member.handles(this.key.topic, eventType);
    if (!this.members.some(handles)) {
      if (this.members.length === 0) {
        void settler.release(message, this.key, {
          message: "no member left to deliver to",
          code: "released",
        });
      } else {
        void settler.ackUnhandled(message, this.key);
      }
      return true;
    }
    const reserved =
      reservation === undefined
        ? undefined
        : this.pick((member) =>
            handles(member) && reservation.heldFor(member) > 0
              ? member.freeCredits + reservation.heldFor(member)
              : undefined,
          );
    if (reserved !== undefined) {
      reservation!.consume(reserved);
      this.deliver(reserved, message);
      return true;
    }
    // No reserved member handles this type: take a free credit of one that does, if any.
    const member = this.pick((m) => (handles(m) && m.freeCredits > 0 ? m.freeCredits : undefined));
    if (member !== undefined) {
      this.deliver(member, message);
      return true;
    }
    if (reservation !== undefined) this.park(message);
    return false;
  }

  private deliver(member: Member, message: BrokerMessage): void {
    this.outstanding += 1;
    let settled = false;
    this.options.deliver(member, message, () => {
      if (settled) return;
      settled = true;
      this.outstanding -= 1;
      if (this.outstanding === 0) for (const resolve of this.settledWaiters.splice(0)) resolve();
    });
  }

  /** The member with the highest score (undefined = not eligible), scanning from the round-robin cursor. */
  private pick(score: (member: Member) => number | undefined): Member | undefined {
    const count = this.members.length;
    let best: Member | undefined;
    let bestScore = Number.NEGATIVE_INFINITY;
    let bestIndex = 0;
    for (let offset = 0; offset < count; offset++) {
      const index = (this.cursor + offset) % count;
      const member = this.members[index]!;
      const value = score(member);
      if (value !== undefined && value > bestScore) {
        best = member;
        bestScore = value;
        bestIndex = index;
      }
    }
    if (best !== undefined) this.cursor = (bestIndex + 1) % count;
    return best;
  }

  private park(message: BrokerMessage): void {
    // The broker lease keeps running while the message waits here; renew it so no replica takes it meanwhile.
    const keepAlive = setInterval(
      () => void this.options.settler.touch(message, this.key),
      Math.max(1, Math.floor(this.options.leaseMs / 2)),
    );
    keepAlive.unref();
    this.parked.push({ message, keepAlive });
  }

  private placeParked(): void {
    for (let index = 0; index < this.parked.length; ) {
      const entry = this.parked[index]!;
      if (this.place(entry.message)) {
        clearInterval(entry.keepAlive);
        this.parked.splice(index, 1);
      } else {
        index += 1;
      }
    }
  }

  /** Resolve once a member frees credits, the membership changes or the pump stops. */
  private waitForCredits(): Promise<void> {
    if (this.state !== "running") return Promise.resolve();
    return new Promise((resolve) => {
      const cancels: Array<() => void> = [];
      const done = (): void => {
        for (const cancel of cancels) cancel();
        if (this.wakeWaiter === done) this.wakeWaiter = undefined;
        resolve();
      };
      for (const member of this.members) cancels.push(member.onceCreditsFreed(done));
      this.wakeWaiter = done;
    });
  }

  private whenSettled(): Promise<void> {
    if (this.outstanding === 0) return Promise.resolve();
    return new Promise((resolve) => this.settledWaiters.push(resolve));
  }
}
