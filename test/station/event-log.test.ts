/**
 * The NDJSON event log: every event once, in order, gathered into few writes; under
 * back-pressure progress events are dropped and counted, state changes never.
 */
import { describe, expect, it } from 'vitest';
import { Writable } from 'node:stream';
import { attachEventLog } from '../../src/station/event-log.ts';
import { EventBus, type StationEvent } from '../../src/station/events.ts';

class Sink extends Writable {
  chunks: string[] = [];
  /** Completes writes only when told to (simulates a slow consumer). */
  held: (() => void)[] = [];
  hold = false;
  constructor(highWaterMark = 1 << 20) {
    super({ highWaterMark, decodeStrings: false });
  }
  override _write(chunk: unknown, _enc: BufferEncoding, cb: (e?: Error | null) => void): void {
    this.chunks.push(String(chunk));
    if (this.hold) this.held.push(() => cb());
    else cb();
  }
  release(): void {
    this.hold = false;
    for (const f of this.held.splice(0)) f();
  }
  get lines(): Record<string, unknown>[] {
    return this.chunks
      .join('')
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as Record<string, unknown>);
  }
}

const progress = (slot: string, n: number): StationEvent => ({ type: 'slot.progress', t: n, slot, bytesSent: n, bytesTotal: 100, segmentsSent: n, segmentsTotal: 10 });
const state = (slot: string, n: number): StationEvent => ({ type: 'slot.state', t: n, slot, state: 'loading' });

describe('event log (NDJSON)', () => {
  it('writes every event once, in order, in one chunk per flush window, and the rest on close', async () => {
    const bus = new EventBus();
    const sink = new Sink();
    const log = attachEventLog(bus, sink, { flushMs: 30 });
    for (let i = 0; i < 50; i++) bus.emit(i % 5 === 0 ? state('S1', i) : progress('S1', i));
    expect(sink.chunks.length).toBe(0); // still gathering
    await new Promise((r) => setTimeout(r, 60));
    expect(sink.chunks.length).toBe(1);
    bus.emit(state('S2', 50));
    await log.close();
    expect(sink.lines.map((l) => l.t)).toEqual(Array.from({ length: 51 }, (_, i) => i));
    bus.emit(state('S3', 99)); // detached on close
    expect(sink.lines.length).toBe(51);
  });

  it('under back-pressure drops progress events but keeps state changes, and reports the count once drained', async () => {
    const bus = new EventBus();
    const sink = new Sink(16);
    sink.hold = true;
    const log = attachEventLog(bus, sink, { flushMs: 0 });
    bus.emit(state('S1', 1)); // fills the tiny buffer: the sink is now blocked
    for (let i = 0; i < 10; i++) bus.emit(progress('S1', 10 + i));
    bus.emit(state('S1', 2));
    expect(log.dropped).toBe(10);
    sink.release();
    await new Promise((r) => setImmediate(r));
    sink.release();
    await log.close();
    const types = sink.lines.map((l) => l.type);
    expect(types).toEqual(['slot.state', 'slot.state', 'events.dropped']);
    expect(sink.lines[2]!.count).toBe(10);
  });
});
