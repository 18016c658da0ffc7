import type { Member } from "./member.js";

/**
 * Credits a pump took from its members before pulling. Each pulled message consumes one credit of the member it
 * is assigned to; whatever is left is released after the pull, so other pumps (other topics of the same
 * members) can use it.
 */
export class CreditReservation {
  private readonly counts = new Map<Member, number>();
  private remaining = 0;

  /**
   * Reserve up to `perMember` free credits of every open member.
   *
   * @param perMember - `Infinity` takes all free credits; 1 is what an idle pump holds while it waits for
   *   traffic, so that one member's credits are not all parked in one topic's long pull.
   */
  static take(members: readonly Member[], perMember: number): CreditReservation {
    const reservation = new CreditReservation();
    for (const member of members) {
      const count = Math.min(member.freeCredits, perMember);
      if (count <= 0) continue;
      member.reserved += count;
      reservation.counts.set(member, count);
      reservation.remaining += count;
    }
    return reservation;
  }

  /** Credits still reserved, i.e. how many messages may be pulled. */
  get total(): number {
    return this.remaining;
  }

  /** Credits still reserved for `member`. */
  heldFor(member: Member): number {
    return this.counts.get(member) ?? 0;
  }

  /** Turn one reserved credit of `member` into a delivery it now holds. */
  consume(member: Member): void {
    const count = this.counts.get(member) ?? 0;
    if (count <= 0) throw new Error("no credit of this member is reserved");
    this.counts.set(member, count - 1);
    member.reserved -= 1;
    this.remaining -= 1;
  }

  /** Give every unused credit back and wake pumps waiting for them. Idempotent. */
  release(): void {
    for (const [member, count] of this.counts) {
      if (count <= 0) continue;
      member.reserved -= count;
      member.notifyCreditsFreed();
    }
    this.counts.clear();
    this.remaining = 0;
  }
}
