/**
 * Persisted contact-cycle counters, one append-only NDJSON file beside the journal
 * (`slot-cycles.ndjson`). Two writers share it: the running station appends a `cycle` line per
 * contact cycle, and `ifpp slots reset-cycles` appends a `reset` line (who, when) — from another
 * process, possibly while the station runs. Appends of one short line (O_APPEND) never
 * interleave, so neither needs a lock; the station reads lines it did not write (resets) with
 * `refresh()`. A slot's count is its cycles since its last reset.
 *
 * A cycle line is not fsync'd (a lost cycle on power loss costs nothing); a reset line is.
 * A torn last line (power loss mid-append) is ignored.
 */
import { appendFileSync, closeSync, existsSync, fstatSync, fsyncSync, mkdirSync, openSync, readSync, renameSync, writeFileSync } from 'node:fs';
import { randomUUID } from 'node:crypto';
import { dirname, join } from 'node:path';
import { IfppError } from '../../core/errors.ts';

export const WEAR_FILE = 'slot-cycles.ndjson';

export function wearPath(config: { journal: string }): string {
  return join(config.journal, WEAR_FILE);
}

export interface CycleLine {
  type: 'cycle';
  slot: string;
  t: number;
}

export interface ResetLine {
  type: 'reset';
  id: string;
  slot: string;
  /** ISO time of the reset. */
  at: string;
  by: string;
  /** The count the reset cleared. */
  cycles: number;
  note?: string;
}

/** A compacted history: the count at the time of compaction. */
export interface BaseLine {
  type: 'base';
  slot: string;
  cycles: number;
}

type WearLine = CycleLine | ResetLine | BaseLine;

export class WearLedgerError extends IfppError {}

export class WearLedger {
  private readonly counts = new Map<string, number>();
  private readonly resets: ResetLine[] = [];
  private offset = 0;
  private rest = '';

  private constructor(readonly path: string) {}

  /** Reads the ledger (a missing one is empty); appends go to the same file. */
  static open(path: string): WearLedger {
    const l = new WearLedger(path);
    l.refresh();
    return l;
  }

  cycles(slot: string): number {
    return this.counts.get(slot) ?? 0;
  }

  /** Every reset read so far, oldest first. */
  allResets(): readonly ResetLine[] {
    return this.resets;
  }

  /** Counts one contact cycle on `slot`; returns its new count. */
  addCycle(slot: string, t = Date.now()): number {
    this.refresh();
    this.append({ type: 'cycle', slot, t }, false);
    return this.cycles(slot);
  }

  /** Reads lines appended by others since the last read; returns the resets among them. */
  refresh(): ResetLine[] {
    if (!existsSync(this.path)) return [];
    const fd = openSync(this.path, 'r');
    const fresh: ResetLine[] = [];
    try {
      const size = fstatSync(fd).size;
      if (size <= this.offset) return [];
      const buf = Buffer.alloc(size - this.offset);
      readSync(fd, buf, 0, buf.length, this.offset);
      this.offset = size;
      const lines = (this.rest + buf.toString('utf8')).split('\n');
      this.rest = lines.pop()!;
      for (const line of lines) {
        const l = parseLine(line);
        if (!l) continue;
        this.apply(l);
        if (l.type === 'reset') fresh.push(l);
      }
    } finally {
      closeSync(fd);
    }
    return fresh;
  }

  /**
   * Resets a slot's count to 0, recording who and when; durable when it returns. Used by
   * `ifpp slots reset-cycles` (its own ledger instance, maybe while a station appends).
   */
  reset(slot: string, by: string, note?: string, at = new Date()): ResetLine {
    this.refresh();
    const line: ResetLine = { type: 'reset', id: randomUUID(), slot, at: at.toISOString(), by, cycles: this.cycles(slot), ...(note ? { note } : {}) };
    this.append(line, true);
    return line;
  }

  /**
   * Rewrites the file as one base line per slot (at station start, when it has grown large):
   * reset lines are kept, so their history stays readable. Not while another writer may append.
   */
  compact(): void {
    this.refresh();
    const lines: WearLine[] = [...this.resets, ...[...this.counts].map(([slot, cycles]): BaseLine => ({ type: 'base', slot, cycles }))];
    const tmp = `${this.path}.tmp`;
    writeFileSync(tmp, lines.map((l) => JSON.stringify(l) + '\n').join(''));
    const fd = openSync(tmp, 'r');
    fsyncSync(fd);
    closeSync(fd);
    renameSync(tmp, this.path);
    this.offset = fstatSync0(this.path);
    this.rest = '';
  }

  get bytes(): number {
    return this.offset;
  }

  private apply(l: WearLine): void {
    if (l.type === 'cycle') this.counts.set(l.slot, this.cycles(l.slot) + 1);
    else if (l.type === 'base') this.counts.set(l.slot, l.cycles);
    else {
      this.counts.set(l.slot, 0);
      this.resets.push(l);
    }
  }

  private append(l: WearLine, durable: boolean): void {
    const text = JSON.stringify(l) + '\n';
    try {
      mkdirSync(dirname(this.path), { recursive: true });
      if (durable) {
        const fd = openSync(this.path, 'a');
        try {
          appendFileSync(fd, text);
          fsyncSync(fd);
        } finally {
          closeSync(fd);
        }
      } else appendFileSync(this.path, text);
    } catch (e) {
      throw new WearLedgerError('WEAR_WRITE_FAILED', `cannot write the slot cycle counters ${this.path}: ${(e as Error).message}`, {
        hint: 'check free disk space and the permissions of the journal folder',
        cause: e,
      });
    }
    // Our own line: read it back with anything appended before it.
    this.refresh();
  }
}

function fstatSync0(path: string): number {
  const fd = openSync(path, 'r');
  try {
    return fstatSync(fd).size;
  } finally {
    closeSync(fd);
  }
}

function parseLine(line: string): WearLine | undefined {
  if (!line.trim()) return undefined;
  let v: unknown;
  try {
    v = JSON.parse(line);
  } catch {
    return undefined; // a line damaged by a crash: one cycle more or less is no matter
  }
  if (typeof v !== 'object' || v === null) return undefined;
  const o = v as Record<string, unknown>;
  if (typeof o.slot !== 'string') return undefined;
  if (o.type === 'cycle') return { type: 'cycle', slot: o.slot, t: typeof o.t === 'number' ? o.t : 0 };
  if (o.type === 'base' && typeof o.cycles === 'number') return { type: 'base', slot: o.slot, cycles: o.cycles };
  if (o.type === 'reset' && typeof o.id === 'string') {
    return { type: 'reset', id: o.id, slot: o.slot, at: String(o.at ?? ''), by: String(o.by ?? '?'), cycles: typeof o.cycles === 'number' ? o.cycles : 0, ...(typeof o.note === 'string' ? { note: o.note } : {}) };
  }
  return undefined;
}
