import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import {
  etuSeconds,
  exchangeEtu,
  ppsSeconds,
  resetSeconds,
  t0Runs,
  tpduWireSeconds,
  wwtSeconds,
  type Run,
} from '../../src/sim/bridge/timing-model.ts';
import { PacedLane } from '../../src/sim/bridge/scheduler.ts';
import { FakeClock } from '../helpers/fake-clock.ts';

// The documented closed form (hardware/PROTOCOL.md §7): every character 12 etu, +4 etu for each
// change of direction, +N etu between consecutive reader->card characters.
function closedFormEtu(runs: Run[], n: number): number {
  const live = runs.filter((r) => r.chars > 0);
  const chars = live.reduce((a, r) => a + r.chars, 0);
  let changes = 0;
  for (let i = 1; i < live.length; i++) if (live[i]!.dir !== live[i - 1]!.dir) changes++;
  const toCardPairs = live.reduce((a, r, i) => a + (r.dir === 'toCard' ? r.chars - 1 + (live[i + 1]?.dir === 'toCard' ? 1 : 0) : 0), 0);
  return 12 * chars + 4 * changes + n * toCardPairs;
}

describe('timing model', () => {
  it('etu = Fi/Di/f: TA1 96 at 5 MHz is 3.2 µs, the default 372/1 at 3.5712 MHz is 1/9600 s', () => {
    expect(etuSeconds(512, 32, 5e6)).toBe(512 / 32 / 5e6);
    expect(etuSeconds(512, 32, 5e6)).toBeCloseTo(3.2e-6, 15);
    expect(etuSeconds(372, 1, 3.5712e6)).toBeCloseTo(1 / 9600, 12);
  });

  it('counts 12 etu per character, 16 at each turnaround, 12 + N between reader characters', () => {
    expect(exchangeEtu([{ dir: 'toCard', chars: 5 }])).toBe(60);
    expect(exchangeEtu([{ dir: 'toCard', chars: 5 }, { dir: 'fromCard', chars: 2 }])).toBe(4 * 12 + 16 + 12 + 12);
    expect(exchangeEtu([{ dir: 'toCard', chars: 5 }], 3)).toBe(4 * 15 + 12);
    expect(exchangeEtu([{ dir: 'toCard', chars: 0 }, { dir: 'fromCard', chars: 1 }])).toBe(12);
  });

  it('agrees with the closed form on any sequence of runs', () => {
    const run = fc.record({ dir: fc.constantFrom('toCard' as const, 'fromCard' as const), chars: fc.nat({ max: 300 }) });
    fc.assert(
      fc.property(fc.array(run, { maxLength: 8 }), fc.nat({ max: 254 }), (runs, n) => {
        expect(exchangeEtu(runs, n)).toBe(closedFormEtu(runs, n));
      }),
    );
  });

  it('lays out T=0 exchanges: case 1, 2, 3 and an early status', () => {
    expect(t0Runs({ commandData: 0, responseData: 0 })).toEqual([
      { dir: 'toCard', chars: 5 },
      { dir: 'fromCard', chars: 2 },
    ]);
    expect(t0Runs({ commandData: 0, responseData: 16 })).toEqual([
      { dir: 'toCard', chars: 5 },
      { dir: 'fromCard', chars: 1 + 16 + 2 },
    ]);
    expect(t0Runs({ commandData: 16, responseData: 0 })).toEqual([
      { dir: 'toCard', chars: 5 },
      { dir: 'fromCard', chars: 1 },
      { dir: 'toCard', chars: 16 },
      { dir: 'fromCard', chars: 2 },
    ]);
    expect(t0Runs({ commandData: 16, responseData: 0, earlySw: true })).toEqual([
      { dir: 'toCard', chars: 5 },
      { dir: 'fromCard', chars: 2 },
    ]);
  });

  it('gives the wire time of a 255-byte STORE DATA at TA1 96 / 5 MHz from the formula', () => {
    const etu = 512 / 32 / 5e6;
    // header 5 + INS 1 + data 255 + SW 2 characters, three turnarounds
    const expected = ((5 + 1 + 255 + 2) * 12 + 3 * 4) * etu;
    expect(tpduWireSeconds({ commandData: 255, responseData: 0 }, { fi: 512, di: 32, clockHz: 5e6, guardN: 0 })).toBeCloseTo(expected, 15);
    // Same bytes at the default speed: 32x slower at equal clock.
    const slow = tpduWireSeconds({ commandData: 255, responseData: 0 }, { fi: 372, di: 1, clockHz: 5e6, guardN: 0 });
    expect(slow / expected).toBeCloseTo(372 / (512 / 32), 10);
  });

  it('times resets, PPS and the work waiting time', () => {
    const f = 4e6;
    expect(resetSeconds(13, f, 1000)).toBeCloseTo((400 + 1000) / f + 13 * 12 * (372 / f), 15);
    expect(ppsSeconds(4, 4, f)).toBeCloseTo((8 * 12 + 4) * (372 / f), 15);
    expect(ppsSeconds(4, 4, f, 2)).toBeCloseTo((8 * 12 + 4 + 3 * 2) * (372 / f), 15);
    expect(wwtSeconds(10, 372, f)).toBeCloseTo((960 * 10 * 372) / f, 12);
  });
});

describe('PacedLane (drift-free pacing)', () => {
  it('pays back timer lateness: 100 back-to-back 10 ms operations end at 1000 ms + one overshoot', () => {
    const clock = new FakeClock(3);
    const lane = new PacedLane(clock);
    const fired: number[] = [];
    const next = (k: number) => {
      if (k === 100) return;
      // The host sends the next request the moment it gets the answer.
      lane.run(clock.now(), 10, () => {
        fired.push(clock.now());
        next(k + 1);
      });
    };
    next(0);
    for (let i = 0; i < 100; i++) clock.step();
    expect(fired).toHaveLength(100);
    expect(fired[99]).toBe(1003); // without compensation: 1300
  });

  it('fires sub-timer delays at once and owes the difference to the next operation', () => {
    const clock = new FakeClock(0);
    const lane = new PacedLane(clock, 1);
    const fired: number[] = [];
    const run = () => lane.run(clock.now(), 0.4, () => fired.push(clock.now()));
    run();
    clock.step();
    run();
    clock.step();
    expect(fired).toEqual([0, 0]); // both below the 1 ms timer floor
    expect(lane.lag).toBeCloseTo(-0.8, 10);
    run();
    clock.step();
    expect(fired[2]).toBeCloseTo(1.2, 10); // three operations, 3 x 0.4 ms in total
  });

  it('caps how much it catches up, and never fires before the request arrived', () => {
    const clock = new FakeClock(500);
    const lane = new PacedLane(clock, 1, 50);
    lane.run(0, 10, () => undefined);
    clock.step(); // fired 500 ms late
    expect(lane.lag).toBe(50);
    const start = clock.now();
    let at = -1;
    lane.run(start, 5, () => (at = clock.now()));
    clock.step();
    expect(at).toBe(start);
  });
});
