/**
 * The event stream as NDJSON (`ifpp run --events FILE|-`), one JSON object per line, for MES
 * integration. A slow consumer never blocks the station: when the stream's buffer is full,
 * per-APDU and progress events are counted as dropped and reported once it drains.
 *
 * Lines are gathered for up to `flushMs` (default 20 ms) and written as one chunk: a 32-slot
 * station emits well over a thousand events a second, and one write per event would be one
 * file-system call (a thread-pool round trip) each.
 */
import { createWriteStream, type WriteStream } from 'node:fs';
import type { Writable } from 'node:stream';
import type { EventBus, StationEvent } from './events.ts';
import { REPORT_FILE_MODE } from './file-modes.ts';

export interface EventLog {
  close(): Promise<void>;
  readonly dropped: number;
}

export interface EventLogOptions {
  /** Longest an event waits before it is written, ms (0 = write each event at once). */
  flushMs?: number;
}

export function attachEventLog(bus: EventBus, target: string | Writable, opts: EventLogOptions = {}): EventLog {
  const out: Writable = typeof target === 'string' ? (target === '-' ? process.stdout : createWriteStream(target, { flags: 'a', mode: REPORT_FILE_MODE })) : target;
  const flushMs = opts.flushMs ?? 20;
  let dropped = 0;
  let blocked = false;
  let pending = '';
  let timer: ReturnType<typeof setTimeout> | undefined;
  const flush = () => {
    clearTimeout(timer);
    timer = undefined;
    if (!pending) return;
    const chunk = pending;
    pending = '';
    if (!out.write(chunk)) blocked = true;
  };
  out.on('drain', () => {
    blocked = false;
    if (!dropped) return;
    pending += JSON.stringify({ type: 'events.dropped', t: Date.now(), count: dropped }) + '\n';
    dropped = 0;
    flush();
  });
  const off = bus.on((e: StationEvent) => {
    // Per-APDU and progress events may be dropped under back-pressure; state changes never are.
    if (blocked && (e.type === 'slot.apdu' || e.type === 'slot.progress')) {
      dropped++;
      return;
    }
    pending += JSON.stringify(e) + '\n';
    if (flushMs <= 0) flush();
    else timer ??= setTimeout(flush, flushMs);
  });
  return {
    get dropped() {
      return dropped;
    },
    close: () =>
      new Promise<void>((resolve) => {
        off();
        flush();
        if (out === process.stdout || typeof target !== 'string') return resolve();
        (out as WriteStream).end(() => resolve());
      }),
  };
}
