/**
 * What JetStream tells about one delivery in the message's reply (ack) subject.
 *
 * Servers up to 2.9 send `$JS.ACK.<stream>.<consumer>.<delivered>.<stream seq>.<consumer seq>.<ts>.<pending>`;
 * newer ones may add a domain and account hash after `ACK` and a random token at the end. Both are read here
 * (the adapter does not rely on the JetStream client's private parser).
 */
export interface DeliveryInfo {
  readonly stream: string;
  readonly consumer: string;
  /** How many times this message was delivered to the consumer, this time included (1 = first delivery). */
  readonly deliveryCount: number;
  /** Sequence of the message in the stream: stable across redeliveries. */
  readonly streamSequence: number;
  /** When the message was stored, in milliseconds since the epoch. */
  readonly storedAtMs: number;
}

/** Prefix of every JetStream ack subject: a pulled message's reply subject starts with it. */
export const ACK_SUBJECT_PREFIX = "$JS.ACK.";

/** Parse an ack subject; `undefined` when it is not one. */
export function parseDeliveryInfo(ackSubject: string | undefined): DeliveryInfo | undefined {
  if (ackSubject === undefined || !ackSubject.startsWith(ACK_SUBJECT_PREFIX)) return undefined;
  const tokens = ackSubject.split(".");
  // 9 tokens: the form without domain; 11 or 12: with domain and account hash (and a trailing random token).
  const base = tokens.length === 9 ? 2 : tokens.length >= 11 ? 4 : -1;
  if (base < 0) return undefined;
  const stream = tokens[base];
  const consumer = tokens[base + 1];
  const deliveryCount = Number(tokens[base + 2]);
  const streamSequence = Number(tokens[base + 3]);
  const timestampNanos = tokens[base + 5];
  if (stream === undefined || consumer === undefined || timestampNanos === undefined) return undefined;
  if (!Number.isSafeInteger(deliveryCount) || !Number.isSafeInteger(streamSequence)) return undefined;
  let storedAtMs: number;
  try {
    storedAtMs = Number(BigInt(timestampNanos) / 1_000_000n);
  } catch {
    return undefined;
  }
  return { stream, consumer, deliveryCount, streamSequence, storedAtMs };
}
