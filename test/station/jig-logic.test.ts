/**
 * The jig's timing logic on its own: input filtering (bounces, trips) and the two-hand rule.
 * Timers are faked so bounce patterns of a few milliseconds are exact.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { InputFilter, type FilterPolicy } from '../../src/station/jig/input-filter.ts';
import { TwoHandStart } from '../../src/station/jig/two-hand.ts';

function filter(policy: FilterPolicy, activeLow = false) {
  const changes: [boolean, number][] = [];
  const f = new InputFilter({ policy, activeLow, now: () => Date.now(), onChange: (a, at) => changes.push([a, at]) });
  return { f, changes };
}

describe('InputFilter', () => {
  beforeEach(() => {
    vi.useFakeTimers({ now: 0 });
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('safety policy: trips on the first sample, however short, and releases only after a stable level', () => {
    const { f, changes } = filter({ kind: 'safety', releaseMs: 50 });
    f.prime(0);
    expect(f.active).toBe(false);
    vi.advanceTimersByTime(10);
    f.feed(1); // a 1 ms pulse: still a trip
    vi.advanceTimersByTime(1);
    f.feed(0);
    expect(changes).toEqual([[true, 10]]);
    // Chatter shorter than releaseMs never reads as released.
    for (let i = 0; i < 10; i++) {
      vi.advanceTimersByTime(30);
      f.feed(1);
      vi.advanceTimersByTime(1);
      f.feed(0);
    }
    expect(changes).toHaveLength(1);
    expect(f.active).toBe(true);
    vi.advanceTimersByTime(49);
    expect(changes).toHaveLength(1);
    vi.advanceTimersByTime(1);
    expect(changes).toEqual([
      [true, 10],
      [false, 321],
    ]);
  });

  it('debounce policy: ignores bounces shorter than debounceMs and dates a change from its first sample', () => {
    const { f, changes } = filter({ kind: 'debounce', debounceMs: 20 }, true);
    f.prime(1); // activeLow: high = not pressed
    expect(f.active).toBe(false);
    vi.advanceTimersByTime(100);
    f.feed(0);
    vi.advanceTimersByTime(5);
    f.feed(1); // bounce
    vi.advanceTimersByTime(30);
    expect(changes).toEqual([]);
    f.feed(0); // t = 135
    vi.advanceTimersByTime(3);
    f.feed(0); // a repeated port report changes nothing
    vi.advanceTimersByTime(17);
    expect(changes).toEqual([[true, 135]]);
    expect(f.active).toBe(true);
  });

  it('stays unknown until primed or first fed, without a change event', () => {
    const { f, changes } = filter({ kind: 'safety', releaseMs: 10 });
    expect(f.known).toBe(false);
    expect(f.active).toBeUndefined();
    f.feed(1);
    expect(f.active).toBe(true);
    expect(changes).toEqual([]);
  });
});

describe('TwoHandStart', () => {
  it('accepts both hands within the window, in either order', () => {
    const t = new TwoHandStart(500);
    t.begin(false, false, 0);
    expect(t.update('right', true, 1000)).toEqual({ kind: 'none' });
    expect(t.update('left', true, 1500)).toEqual({ kind: 'press' });
  });

  it('refuses hands further apart than the window, then needs both released', () => {
    const t = new TwoHandStart(500);
    t.begin(false, false, 0);
    t.update('left', true, 0);
    expect(t.update('right', true, 501)).toEqual({ kind: 'too-far-apart', gapMs: 501 });
    expect(t.waitingForRelease).toBe(true);
    t.update('left', false, 600);
    expect(t.update('left', true, 700)).toEqual({ kind: 'none' }); // right never let go
    t.update('left', false, 800);
    t.update('right', false, 800);
    expect(t.waitingForRelease).toBe(false);
    t.update('left', true, 900);
    expect(t.update('right', true, 950)).toEqual({ kind: 'press' });
  });

  it('does not count a hand that was already held when the wait began', () => {
    const t = new TwoHandStart(500);
    t.begin(true, false, 0); // left taped down
    expect(t.update('right', true, 10)).toEqual({ kind: 'none' });
    t.update('right', false, 20);
    t.update('left', false, 30);
    t.update('left', true, 40);
    expect(t.update('right', true, 41)).toEqual({ kind: 'press' });
  });

  it('a released hand no longer counts as held', () => {
    const t = new TwoHandStart(500);
    t.begin(false, false, 0);
    t.update('left', true, 0);
    t.update('left', false, 100);
    expect(t.update('right', true, 200)).toEqual({ kind: 'none' });
  });
});
