import type { protos, v1 } from "@google-cloud/pubsub";
import type { InboxKey } from "../adapter.js";
import { isAlreadyExists, isPermissionDenied, toBrokerError } from "./errors.js";
import {
  parseSubscriptionResourceId,
  resourceIdOf,
  subscriptionPath,
  subscriptionResourceId,
  topicPath,
  topicResourceId,
  undeliverableResourceId,
} from "./naming.js";

/** What the adapter needs to know about an inbox's subscription. */
export interface SubscriptionInfo {
  /** Full resource name, `projects/<project>/subscriptions/<id>`. */
  readonly path: string;
  /** The subscription's own ack deadline: how long a pulled message stays leased unless extended. */
  readonly ackDeadlineSeconds: number;
}

/** Settings of {@link PubSubResources}. */
export interface PubSubResourceSettings {
  readonly projectId: string;
  /** First segment of every resource id (see naming.ts). */
  readonly prefix: string;
  /** Ack deadline of subscriptions this adapter creates (10..600). */
  readonly ackDeadlineSeconds: number;
  /** Pub/Sub's own delivery limit before it forwards a message to the tenant's undeliverable topic (5..100). */
  readonly maxDeliveryAttempts: number;
  /** How long a subscription keeps an unacknowledged message (600..604800). */
  readonly messageRetentionSeconds: number;
  /** Deadline of each admin call, in milliseconds. */
  readonly requestTimeoutMs: number;
}

/** Label on every resource the adapter creates, so operators can find (and clean up) them. */
export const MANAGED_LABEL = { "managed-by": "soorma" } as const;

/**
 * Creates and remembers the topics and subscriptions behind Soorma topics and inboxes.
 *
 * Every `ensure…` call is idempotent and cheap after the first success in this process (the answer is
 * memoised, and concurrent calls share one request). Resources that already exist are adopted: a subscription
 * created by hand without a dead-letter policy gets one, because Pub/Sub only counts delivery attempts when a
 * subscription has it. `forget()` drops the memory after Pub/Sub said "not found" (the emulator lost its state,
 * or an operator deleted something), so the next call checks again.
 */
export class PubSubResources {
  readonly #publisher: v1.PublisherClient;
  readonly #subscriber: v1.SubscriberClient;
  readonly #settings: PubSubResourceSettings;
  readonly #topics = new Map<string, Promise<string>>();
  readonly #subscriptions = new Map<string, Promise<SubscriptionInfo>>();
  // Inboxes ensured by this process, by subscription id: the only way to list inboxes whose id was hashed.
  readonly #ensuredInboxes = new Map<string, InboxKey>();

  constructor(
    publisher: v1.PublisherClient,
    subscriber: v1.SubscriberClient,
    settings: PubSubResourceSettings,
  ) {
    this.#publisher = publisher;
    this.#subscriber = subscriber;
    this.#settings = settings;
  }

  /** Full name of the topic of Soorma topic `topic` within `tenant` (no call made). */
  topicPathOf(tenant: string, topic: string): string {
    return topicPath(this.#settings.projectId, topicResourceId(this.#settings.prefix, tenant, topic));
  }

  /** Full name of `tenant`'s undeliverable topic (no call made). */
  undeliverableTopicPathOf(tenant: string): string {
    return topicPath(this.#settings.projectId, undeliverableResourceId(this.#settings.prefix, tenant));
  }

  /** Full name of inbox `key`'s subscription (no call made). */
  subscriptionPathOf(key: InboxKey): string {
    return subscriptionPath(this.#settings.projectId, subscriptionResourceId(this.#settings.prefix, key));
  }

  /** Make sure the topic of (`tenant`, `topic`) exists; resolves with its full name. */
  ensureTopic(tenant: string, topic: string): Promise<string> {
    return this.#ensureTopicPath(this.topicPathOf(tenant, topic));
  }

  /**
   * Make sure inbox `key` exists: its topic, the tenant's undeliverable backstop (topic and the subscription
   * that keeps what lands there) and the inbox's subscription with the dead-letter policy pointing at it.
   */
  ensureSubscription(key: InboxKey): Promise<SubscriptionInfo> {
    const path = this.subscriptionPathOf(key);
    return this.#memoise(this.#subscriptions, path, async () => {
      const [topic, undeliverable] = await Promise.all([
        this.ensureTopic(key.tenant, key.topic),
        this.#ensureUndeliverable(key.tenant),
      ]);
      const info = await this.#createOrAdoptSubscription(path, topic, undeliverable);
      this.#ensuredInboxes.set(resourceIdOf(path), {
        tenant: key.tenant,
        group: key.group,
        topic: key.topic,
      });
      return info;
    });
  }

  /** Forget what was ensured, so the next `ensure…` asks Pub/Sub again. */
  forget(): void {
    this.#topics.clear();
    this.#subscriptions.clear();
  }

  /**
   * Inboxes that exist in the project (optionally of one tenant): every subscription whose id parses as an
   * inbox of this prefix, plus inboxes ensured by this process whose ids were too long to parse back.
   */
  async listInboxKeys(tenant?: string): Promise<InboxKey[]> {
    const found = new Map<string, InboxKey>();
    try {
      const iterable = this.#subscriber.listSubscriptionsAsync(
        { project: `projects/${this.#settings.projectId}`, pageSize: 1000 },
        { timeout: this.#settings.requestTimeoutMs, autoPaginate: false },
      );
      for await (const subscription of iterable) {
        const id = resourceIdOf(subscription.name ?? "");
        const key = parseSubscriptionResourceId(this.#settings.prefix, id) ?? this.#ensuredInboxes.get(id);
        if (key !== undefined) found.set(id, key);
      }
    } catch (error) {
      throw toBrokerError(error, "listing subscriptions");
    }
    const keys = [...found.values()];
    return tenant === undefined ? keys : keys.filter((key) => key.tenant === tenant);
  }

  #ensureTopicPath(path: string): Promise<string> {
    return this.#memoise(this.#topics, path, async () => {
      try {
        await this.#publisher.createTopic(
          { name: path, labels: { ...MANAGED_LABEL } },
          { timeout: this.#settings.requestTimeoutMs },
        );
      } catch (error) {
        // PERMISSION_DENIED: a least-privilege deployment provisioned the topic ahead; publishing will tell.
        if (!isAlreadyExists(error) && !isPermissionDenied(error)) {
          throw toBrokerError(error, `creating topic ${path}`);
        }
      }
      return path;
    });
  }

  /**
   * The tenant's backstop: Pub/Sub forwards a message to this topic once it exceeded `maxDeliveryAttempts`
   * (the core normally dead-letters long before), and the subscription on it keeps such messages, since
   * Pub/Sub drops messages published to a topic without subscriptions.
   */
  async #ensureUndeliverable(tenant: string): Promise<string> {
    const topic = await this.#ensureTopicPath(this.undeliverableTopicPathOf(tenant));
    const keeper = subscriptionPath(
      this.#settings.projectId,
      undeliverableResourceId(this.#settings.prefix, tenant),
    );
    await this.#memoise(this.#subscriptions, keeper, () =>
      this.#createOrAdoptSubscription(keeper, topic, undefined),
    );
    return topic;
  }

  async #createOrAdoptSubscription(
    path: string,
    topic: string,
    deadLetterTopic: string | undefined,
  ): Promise<SubscriptionInfo> {
    const timeout = this.#settings.requestTimeoutMs;
    const deadLetterPolicy =
      deadLetterTopic === undefined
        ? undefined
        : { deadLetterTopic, maxDeliveryAttempts: this.#settings.maxDeliveryAttempts };
    const wanted: protos.google.pubsub.v1.ISubscription = {
      name: path,
      topic,
      ackDeadlineSeconds: this.#settings.ackDeadlineSeconds,
      messageRetentionDuration: { seconds: this.#settings.messageRetentionSeconds },
      // An empty policy means "never expires": an inbox must outlive any quiet period of its group.
      expirationPolicy: {},
      labels: { ...MANAGED_LABEL },
      ...(deadLetterPolicy === undefined ? {} : { deadLetterPolicy }),
    };
    try {
      const [created] = await this.#subscriber.createSubscription(wanted, { timeout });
      return infoOf(path, created);
    } catch (error) {
      // PERMISSION_DENIED: a least-privilege deployment provisioned it ahead; reading it tells.
      if (!isAlreadyExists(error) && !isPermissionDenied(error)) {
        throw toBrokerError(error, `creating subscription ${path}`);
      }
    }
    let existing: protos.google.pubsub.v1.ISubscription;
    try {
      [existing] = await this.#subscriber.getSubscription({ subscription: path }, { timeout });
    } catch (error) {
      throw toBrokerError(error, `reading subscription ${path}`);
    }
    if (deadLetterPolicy === undefined || existing.deadLetterPolicy?.deadLetterTopic)
      return infoOf(path, existing);
    try {
      const [updated] = await this.#subscriber.updateSubscription(
        { subscription: { name: path, deadLetterPolicy }, updateMask: { paths: ["dead_letter_policy"] } },
        { timeout },
      );
      return infoOf(path, updated);
    } catch (error) {
      // Not allowed to add the policy: use it as it is; consumers then count attempts per process.
      if (isPermissionDenied(error)) return infoOf(path, existing);
      throw toBrokerError(error, `adding a dead-letter policy to subscription ${path}`);
    }
  }

  /** Share one in-flight creation per name; a failed one is not remembered, so the next call retries. */
  #memoise<T>(cache: Map<string, Promise<T>>, name: string, create: () => Promise<T>): Promise<T> {
    let pending = cache.get(name);
    if (pending === undefined) {
      pending = create();
      cache.set(name, pending);
      pending.catch(() => {
        if (cache.get(name) === pending) cache.delete(name);
      });
    }
    return pending;
  }
}

function infoOf(path: string, subscription: protos.google.pubsub.v1.ISubscription): SubscriptionInfo {
  return { path, ackDeadlineSeconds: subscription.ackDeadlineSeconds ?? 10 };
}
