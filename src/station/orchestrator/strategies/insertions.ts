/**
 * Insertions seen per slot (a bridge's CARD IN or the jig's presence input), and who waits for
 * the next one. Counting insertions, not polling levels, so a fast swap is never missed.
 */
export class Insertions {
  #seq = new Map<string, number>();
  #waiters = new Map<string, (() => void)[]>();

  /** Insertions seen so far in `slot`. */
  count(slot: string): number {
    return this.#seq.get(slot) ?? 0;
  }

  inserted(slot: string): void {
    this.#seq.set(slot, this.count(slot) + 1);
    const w = this.#waiters.get(slot);
    this.#waiters.delete(slot);
    for (const f of w ?? []) f();
  }

  /** Resolves once a unit was inserted into `slot` after insertion number `since` (or once `stopped()`). */
  async wait(slot: string, since: number, stopped: () => boolean): Promise<void> {
    while (!stopped() && this.count(slot) <= since) {
      await new Promise<void>((resolve) => {
        const list = this.#waiters.get(slot) ?? [];
        list.push(resolve);
        this.#waiters.set(slot, list);
      });
    }
  }

  /** Wakes every waiter (on stop: each one checks `stopped()` again). */
  wakeAll(): void {
    for (const ws of this.#waiters.values()) for (const f of ws) f();
    this.#waiters.clear();
  }
}
