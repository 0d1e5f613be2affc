/**
 * Headless, human-readable log: one line per event, for when the full-screen UI cannot run
 * (not a terminal, TERM=dumb, CI, --headless). Progress is logged in steps rather than at the
 * station's 10 Hz, and APDUs only when asked for.
 */
import type { StationEvent } from '../station/events.ts';
import { describeEvent, eventSlot, percent } from './format.ts';
import type { StationEventSource } from './app.tsx';

export interface PlainLogOptions {
  /** Log a slot's progress each time it crosses a multiple of this percentage. Default 25. */
  progressStepPercent?: number;
  /** Log every APDU summary. Default false. */
  apdus?: boolean;
  /** Prefix lines with the event's ISO time. Default true. */
  timestamps?: boolean;
}

/** Returns a listener that turns each event into at most one line and hands it to `write`. */
export function createPlainLog(write: (line: string) => void, opts: PlainLogOptions = {}): (e: StationEvent) => void {
  const step = Math.max(1, Math.min(100, opts.progressStepPercent ?? 25));
  const lastStep = new Map<string, number>();
  let slotWidth = 4;
  return (e) => {
    if (e.type === 'station.started') slotWidth = Math.max(4, ...e.slots.map((s) => s.id.length));
    if (e.type === 'slot.apdu' && !opts.apdus) return;
    // Per-unit figures are for screens and MES; the log has the periodic summary.
    if (e.type === 'slot.stats') return;
    if (e.type === 'slot.state') lastStep.delete(e.slot);
    if (e.type === 'slot.progress') {
      const bucket = Math.floor(percent(e.bytesSent, e.bytesTotal) / step);
      const prev = lastStep.get(e.slot);
      if (prev !== undefined && bucket <= prev) return;
      lastStep.set(e.slot, bucket);
    }
    const slot = eventSlot(e);
    const time = opts.timestamps === false ? '' : `${new Date(e.t).toISOString()} `;
    const who = (slot ?? '-').padEnd(slotWidth);
    write(`${time}${who} ${describeEvent(e)}`);
  };
}

/** Subscribes a plain log writing lines to `out`; returns the unsubscribe function. */
export function attachPlainLog(source: StationEventSource, out: { write(chunk: string): unknown }, opts: PlainLogOptions = {}): () => void {
  return source.on(createPlainLog((line) => out.write(`${line}\n`), opts));
}
