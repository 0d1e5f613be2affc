/**
 * The jig's notion of time: when an input changed (two-hand window, debounce) and its waits
 * (reset pulse, clamp timeout). Injected so tests can move time instead of sleeping in it.
 */
export interface JigClock {
  /** Monotonic milliseconds. */
  now(): number;
  /** Calls `fn` after `ms` of this clock's time; returns a handle for clearTimeout. */
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

export const realClock: JigClock = {
  now: () => performance.now(),
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (h) => clearTimeout(h as ReturnType<typeof setTimeout>),
};
