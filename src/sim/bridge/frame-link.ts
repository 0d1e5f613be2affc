/**
 * The `usb-fs` host link model of the bridge simulator: a USB full-speed CDC bridge, whose bus
 * runs in 1 ms frames (USB 2.0 §5.3.3, §5.8: bulk transfers are scheduled within frames; a
 * CDC-ACM device's answer reaches the host when the host polls its bulk IN endpoint in a
 * following frame, and the host's request reaches the device in a frame too). Every chunk from
 * the host and every line to the host is handed on at the next frame boundary of the bridge's
 * clock (`frameMs`), so a round trip waits 0-2 ms, about 1 ms on average, on top of the pty.
 * Not modeled: the 12 Mbit/s bandwidth and USB's own jitter.
 *
 * Node's timers cannot wait less than 1 ms and fire up to about 1 ms late, so a plain timer to
 * each boundary made every line wait 1-2 ms instead of 0-1 (about 2.3 ms per round trip instead
 * of 1 on this VM: the model's own cost, not the station's). The waits go through a PacedLane
 * instead, as the card's times do: a wait shorter than a timer is handed on at once and owed to
 * the next one, a late timer is paid back, so the delays add up to the modeled ones over a run
 * (`delay` counts what was really waited).
 */
import { PacedLane, realClock, type Clock } from './scheduler.ts';

export interface FrameLinkDelay {
  /** Total ms lines from the host waited, and how many. */
  inMs: number;
  inLines: number;
  /** Total ms lines to the host waited, and how many. */
  outMs: number;
  outLines: number;
}

export class FrameLink {
  /** What the model really added, ms, summed each way (for the benchmark). */
  readonly delay: FrameLinkDelay = { inMs: 0, inLines: 0, outMs: 0, outLines: 0 };
  private inFrame: Uint8Array[] = [];
  private outFrame: string[] = [];
  private inSince: number[] = [];
  private outSince: number[] = [];
  private cancel: (() => void) | undefined;
  private readonly lane: PacedLane;

  constructor(
    private readonly frameMs: number,
    private readonly deliver: { fromHost(chunk: Uint8Array): void; toHost(lines: string): void },
    private readonly clock: Clock = realClock,
    /** Waits shorter than this are not worth a timer (see PacedLane); 0 with an exact clock. */
    minTimerMs = 1,
  ) {
    this.lane = new PacedLane(clock, minTimerMs);
  }

  /** The next frame boundary strictly after `t`. */
  boundaryAfter(t: number): number {
    return (Math.floor(t / this.frameMs) + 1) * this.frameMs;
  }

  /** Bytes from the host: handed to `deliver.fromHost` at the next boundary. */
  fromHost(chunk: Uint8Array): void {
    this.inFrame.push(chunk);
    this.inSince.push(this.clock.now());
    this.arm();
  }

  /** A line (with its newline) for the host: written by `deliver.toHost` at the next boundary. */
  toHost(line: string): void {
    this.outFrame.push(line);
    this.outSince.push(this.clock.now());
    this.arm();
  }

  /** Drops what waits (the bridge was unplugged or closed). */
  reset(): void {
    this.cancel?.();
    this.cancel = undefined;
    this.inFrame = [];
    this.outFrame = [];
    this.inSince = [];
    this.outSince = [];
  }

  /** One wait to the next boundary; then both directions move. */
  private arm(): void {
    if (this.cancel) return;
    const now = this.clock.now();
    this.cancel = this.lane.run(now, this.boundaryAfter(now) - now, () => {
      this.cancel = undefined;
      const at = this.clock.now();
      const ins = this.inFrame;
      const outs = this.outFrame;
      for (const t of this.inSince) this.delay.inMs += at - t;
      for (const t of this.outSince) this.delay.outMs += at - t;
      this.delay.inLines += this.inSince.length;
      this.delay.outLines += this.outSince.length;
      this.inFrame = [];
      this.outFrame = [];
      this.inSince = [];
      this.outSince = [];
      if (outs.length > 0) this.deliver.toHost(outs.join(''));
      for (const d of ins) this.deliver.fromHost(d);
    });
  }
}
