/**
 * The event stream as NDJSON (`ifpp run --events FILE|-`), one JSON object per line, for MES
 * integration. Writes are buffered by the stream; a slow consumer never blocks the station:
 * when the stream's buffer is full, events are counted as dropped and reported once it drains.
 */
import { createWriteStream, type WriteStream } from 'node:fs';
import type { Writable } from 'node:stream';
import type { EventBus, StationEvent } from './events.ts';

export interface EventLog {
  close(): Promise<void>;
  readonly dropped: number;
}

export function attachEventLog(bus: EventBus, target: string | Writable): EventLog {
  const out: Writable = typeof target === 'string' ? (target === '-' ? process.stdout : createWriteStream(target, { flags: 'a' })) : target;
  let dropped = 0;
  let blocked = false;
  out.on('drain', () => {
    blocked = false;
    if (dropped) out.write(JSON.stringify({ type: 'events.dropped', t: Date.now(), count: dropped }) + '\n');
    dropped = 0;
  });
  const off = bus.on((e: StationEvent) => {
    // Per-APDU and progress events may be dropped under back-pressure; state changes never are.
    if (blocked && (e.type === 'slot.apdu' || e.type === 'slot.progress')) {
      dropped++;
      return;
    }
    if (!out.write(JSON.stringify(e) + '\n')) blocked = true;
  });
  return {
    get dropped() {
      return dropped;
    },
    close: () =>
      new Promise<void>((resolve) => {
        off();
        if (out === process.stdout || typeof target !== 'string') return resolve();
        (out as WriteStream).end(() => resolve());
      }),
  };
}
