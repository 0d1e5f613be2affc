/**
 * Paces simulated responses in real time without accumulating timer drift. Each slot has a
 * lane; an operation that should take `d` ms after its request arrived fires at
 * arrival + d - lag, where lag is how late (or, for sub-timer delays fired at once, how early)
 * the lane's previous operation fired against its own target. A run of N exchanges thus
 * takes the sum of their modeled times instead of that plus N timer overshoots. Catch-up is
 * capped so a long-late lane never answers much sooner than physics after an idle period.
 */

export interface Clock {
  /** Milliseconds, monotonic. */
  now(): number;
  /** Calls fn after `ms` (0 = as soon as possible, asynchronously); returns a cancel function. */
  schedule(fn: () => void, ms: number): () => void;
}

export const realClock: Clock = {
  now: () => performance.now(),
  schedule(fn, ms) {
    if (ms <= 0) {
      const h = setImmediate(fn);
      return () => clearImmediate(h);
    }
    const h = setTimeout(fn, ms);
    return () => clearTimeout(h);
  },
};

export class PacedLane {
  private lagMs = 0;

  constructor(
    private readonly clock: Clock = realClock,
    /** Waits shorter than this are not worth a timer: fire now and owe the difference. */
    private readonly minTimerMs = 1,
    private readonly maxLagMs = 50,
  ) {}

  /** Current lag in ms (positive = behind schedule). */
  get lag(): number {
    return this.lagMs;
  }

  /** Runs fn `durationMs` after `startMs` (a clock.now() value), corrected by the lane's lag. */
  run(startMs: number, durationMs: number, fn: () => void): () => void {
    const target = startMs + durationMs - this.lagMs;
    const wait = target - this.clock.now();
    return this.clock.schedule(
      () => {
        const lag = this.clock.now() - target;
        this.lagMs = Math.max(-this.maxLagMs, Math.min(this.maxLagMs, lag));
        fn();
      },
      wait < this.minTimerMs ? 0 : wait,
    );
  }
}
