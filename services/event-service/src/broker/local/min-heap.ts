/**
 * A binary min-heap ordered by `before`. The memory adapter keeps leased and delayed messages in one, keyed by
 * the time they become visible, so finding expired leases costs O(log n) instead of a scan of the inbox.
 */
export class MinHeap<T> {
  readonly #items: T[] = [];
  readonly #before: (a: T, b: T) => boolean;

  /** @param before true when `a` must come out before `b`. */
  constructor(before: (a: T, b: T) => boolean) {
    this.#before = before;
  }

  /** Number of entries. */
  get size(): number {
    return this.#items.length;
  }

  /** The first entry, without removing it. */
  peek(): T | undefined {
    return this.#items[0];
  }

  /** Add an entry. */
  push(item: T): void {
    const items = this.#items;
    items.push(item);
    let index = items.length - 1;
    while (index > 0) {
      const parent = (index - 1) >> 1;
      if (!this.#before(items[index] as T, items[parent] as T)) break;
      this.#swap(index, parent);
      index = parent;
    }
  }

  /** Remove and return the first entry. */
  pop(): T | undefined {
    const items = this.#items;
    const first = items[0];
    const last = items.pop();
    if (items.length === 0 || last === undefined) return first;
    items[0] = last;
    let index = 0;
    for (;;) {
      const left = index * 2 + 1;
      const right = left + 1;
      let smallest = index;
      if (left < items.length && this.#before(items[left] as T, items[smallest] as T)) smallest = left;
      if (right < items.length && this.#before(items[right] as T, items[smallest] as T)) smallest = right;
      if (smallest === index) break;
      this.#swap(index, smallest);
      index = smallest;
    }
    return first;
  }

  /** Drop every entry. */
  clear(): void {
    this.#items.length = 0;
  }

  #swap(a: number, b: number): void {
    const items = this.#items;
    const held = items[a] as T;
    items[a] = items[b] as T;
    items[b] = held;
  }
}
