/**
 * The bridge simulator's usb-fs link model (src/sim/bridge/frame-link.ts) on a fake clock:
 * every chunk from the host and every line to the host is handed on at the next 1 ms frame
 * boundary, both directions in the same frame, and with timers that fire late or cannot wait
 * less than 1 ms (as Node's) the delays still add up to the modeled ones over a run.
 */
import { describe, expect, it } from 'vitest';
import { FrameLink } from '../../src/sim/bridge/frame-link.ts';
import { FakeClock } from '../helpers/fake-clock.ts';

function link(clock: FakeClock, minTimerMs: number) {
  const got: { dir: 'in' | 'out'; what: string; at: number }[] = [];
  const frames = new FrameLink(
    1,
    {
      fromHost: (d) => got.push({ dir: 'in', what: Buffer.from(d).toString(), at: clock.now() }),
      toHost: (s) => got.push({ dir: 'out', what: s, at: clock.now() }),
    },
    clock,
    minTimerMs,
  );
  return { frames, got };
}

describe('usb-fs frame link model', () => {
  it('hands each line on at the next 1 ms frame boundary, both directions in one frame', () => {
    const clock = new FakeClock(0);
    const { frames, got } = link(clock, 0);
    clock.t = 0.3;
    frames.fromHost(Buffer.from('1 0 STATUS\n'));
    clock.t = 0.8;
    frames.toHost('! 1 CARD IN\n');
    frames.toHost('! 2 CARD IN\n');
    expect(got).toEqual([]); // nothing moves before the boundary
    clock.step();
    expect(got).toEqual([
      { dir: 'out', what: '! 1 CARD IN\n! 2 CARD IN\n', at: 1 },
      { dir: 'in', what: '1 0 STATUS\n', at: 1 },
    ]);
    // A line exactly on a boundary waits for the next one (it missed this frame's schedule).
    clock.t = 2;
    frames.toHost('1 0 OK\n');
    clock.step();
    expect(got[2]).toEqual({ dir: 'out', what: '1 0 OK\n', at: 3 });
    expect(frames.delay).toEqual({ inMs: 0.7, inLines: 1, outMs: 0.2 + 0.2 + 1, outLines: 3 });
    expect(frames.boundaryAfter(4.999)).toBe(5);
  });

  it('with timers that fire 1 ms late and wait at least 1 ms, the delays add up to the model over a run', () => {
    // 200 request/answer round trips at arbitrary sub-ms phases: a plain timer to each boundary
    // would add about 1 ms per line (what the model cost before it was paced).
    const clock = new FakeClock(1);
    const { frames, got } = link(clock, 1);
    let modeled = 0;
    const sentAt: number[] = [];
    for (let i = 0; i < 200; i++) {
      clock.t += 3 + ((i * 0.37) % 1); // the next line, some card time later
      sentAt.push(clock.t);
      modeled += frames.boundaryAfter(clock.t) - clock.t;
      if (i % 2 === 0) frames.fromHost(Buffer.from(`${i}\n`));
      else frames.toHost(`${i}\n`);
      while (clock.pending > 0) clock.step();
    }
    expect(got).toHaveLength(200);
    const waited = frames.delay.inMs + frames.delay.outMs;
    expect(frames.delay.inLines + frames.delay.outLines).toBe(200);
    // Within two frames over the whole run, and never early by more than that either.
    expect(Math.abs(waited - modeled)).toBeLessThanOrEqual(2);
    // No line is handed on before it came, nor later than a frame, a late timer and a frame owed.
    for (const g of got) {
      const wait = g.at - sentAt[parseInt(g.what, 10)]!;
      expect(wait).toBeGreaterThanOrEqual(0);
      expect(wait).toBeLessThanOrEqual(3);
    }
  });

  it('reset drops what waits and cancels the frame', () => {
    const clock = new FakeClock(0);
    const { frames, got } = link(clock, 0);
    frames.fromHost(Buffer.from('x\n'));
    frames.toHost('y\n');
    frames.reset();
    expect(clock.pending).toBe(0);
    expect(got).toEqual([]);
  });
});
