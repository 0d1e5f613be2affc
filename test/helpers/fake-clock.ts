import type { Clock } from '../../src/sim/bridge/scheduler.ts';

/** A simulator clock whose timers fire `lateMs` after they are due (as Node's may), advanced by hand. */
export class FakeClock implements Clock {
  t = 0;
  private timers: { at: number; fn: () => void }[] = [];
  constructor(private readonly lateMs: number) {}
  now(): number {
    return this.t;
  }
  schedule(fn: () => void, ms: number): () => void {
    const timer = { at: this.t + ms + (ms > 0 ? this.lateMs : 0), fn };
    this.timers.push(timer);
    return () => (this.timers = this.timers.filter((x) => x !== timer));
  }
  /** Timers not yet fired. */
  get pending(): number {
    return this.timers.length;
  }
  /** Fires the next timer, moving time forward to it. */
  step(): void {
    this.timers.sort((a, b) => a.at - b.at);
    const next = this.timers.shift();
    if (!next) throw new Error('no timer pending');
    this.t = Math.max(this.t, next.at);
    next.fn();
  }
}
