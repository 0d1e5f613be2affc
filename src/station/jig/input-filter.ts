/**
 * Turns raw pin levels (Firmata reports one message per change, contacts bounce) into the
 * "active" state of one input role.
 *
 * Two policies:
 * - `debounce` (start buttons, presence, clamp sensor): a new state counts once the raw level
 *   held it for `debounceMs` without interruption. johnny-five's Button instead emits the last
 *   event after 7 ms of quiet through one shared trigger, so a press and release inside 7 ms
 *   come out as a lone "up" and a chattering contact delays the event indefinitely.
 * - `safety` (e-stop, guard): the first raw sample of the unsafe state trips at once, with no
 *   delay at all; the safe state only counts after `releaseMs` of stable level. A bounce can
 *   then never hide a trip, and a chattering e-stop never looks released. The controller
 *   latches trips anyway, so one trip makes one abort however much the contact chatters.
 *
 * The edge time handed on is when the new level was first seen (not when the filter let it
 * through), so both start buttons are timed the same way whatever the debounce.
 */

export type FilterPolicy = { kind: 'debounce'; debounceMs: number } | { kind: 'safety'; releaseMs: number };

export interface FilterOptions {
  policy: FilterPolicy;
  activeLow: boolean;
  /** Monotonic clock in ms (default performance.now). */
  now?: () => number;
  /** Called with each accepted change of the active state (never for the initial level). */
  onChange: (active: boolean, at: number) => void;
}

export class InputFilter {
  /** Accepted state; undefined until the board reported the pin once. */
  private state: boolean | undefined;
  private raw: boolean | undefined;
  private pendingSince = 0;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private readonly now: () => number;

  constructor(private readonly options: FilterOptions) {
    this.now = options.now ?? (() => performance.now());
  }

  get active(): boolean | undefined {
    return this.state;
  }

  /** True once a level was reported. */
  get known(): boolean {
    return this.state !== undefined;
  }

  /** Takes a level as the current state without filtering or a change event (setup). */
  prime(level: number): void {
    this.cancel();
    this.raw = this.toActive(level);
    this.state = this.raw;
  }

  /** Feeds one raw level (0/1) as reported by the board. */
  feed(level: number): void {
    const active = this.toActive(level);
    if (active === this.raw) return; // Firmata repeats a whole port when a neighbour pin changes
    this.raw = active;
    const at = this.now();
    if (this.state === undefined) {
      this.state = active;
      return;
    }
    if (active === this.state) {
      this.cancel(); // bounced back before the new level settled
      return;
    }
    const { policy } = this.options;
    if (policy.kind === 'safety' && active) {
      this.cancel();
      this.accept(true, at);
      return;
    }
    const wait = policy.kind === 'safety' ? policy.releaseMs : policy.debounceMs;
    this.cancel();
    if (wait <= 0) {
      this.accept(active, at);
      return;
    }
    this.pendingSince = at;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      if (this.raw === active) this.accept(active, this.pendingSince);
    }, wait);
    this.timer.unref?.();
  }

  /** Stops a pending change (dispose). */
  cancel(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
  }

  private accept(active: boolean, at: number): void {
    this.state = active;
    this.options.onChange(active, at);
  }

  private toActive(level: number): boolean {
    const high = level !== 0;
    return this.options.activeLow ? !high : high;
  }
}
