/**
 * Append-only, fsync'd journal (NDJSON). The station writes a record before and after every
 * irreversible step and waits for it to be on disk before going on, so a process killed at any
 * point leaves a journal from which every unit can be accounted for.
 *
 * Group commit: records appended while a sync is in progress are written and synced together
 * in the next round, so 32 slots journaling at once cost one fdatasync per round, not 32.
 *
 * A record nobody waits for on disk (`{ sync: false }`: nothing irreversible follows it) is
 * written at once but synced only with the next record that is: its own fdatasync (about 1 ms
 * here) used to be in flight when the unit's next record came, which then waited for two.
 * Written means in the kernel, so a killed process loses it no more than a synced one; only a
 * power cut before the next sync can.
 */
import { open, mkdir, readFile, type FileHandle } from 'node:fs/promises';
import { dirname } from 'node:path';
import { JournalError } from './errors.ts';
import type { StationJournalRecord } from './records.ts';
import { scanJournal, type JournalRecord, type SequenceProblem } from './scan.ts';
import { STORE_DIR_MODE, STORE_FILE_MODE } from '../file-modes.ts';

export { JournalError };

export type { JournalRecord };

/** The member of a record union `R` whose type is `T` (distributes over unions like StationRecord). */
export type RecordOfType<R extends { type: string }, T extends R['type']> = R extends unknown ? (T extends R['type'] ? R : never) : never;

/** What an append passes for a record of type `T`: everything but the type itself. */
export type RecordFields<R extends { type: string }, T extends R['type']> = Omit<RecordOfType<R, T>, 'type'>;

/** Any record: for tools and tests that journal their own shapes. */
export type AnyRecord = { type: string; [k: string]: unknown };

interface Pending {
  line: string;
  sync: boolean;
  resolve: () => void;
  reject: (e: unknown) => void;
}

export interface ReadResult {
  records: JournalRecord[];
  /** A last line cut off by a crash mid-write; it was never acknowledged, so it is ignored. */
  tornTail: boolean;
  /** Records whose seq did not rise (see scan.ts); the station warns, `ifpp report` lists them. */
  sequenceProblems: SequenceProblem[];
  /** The highest seq in the journal: new records continue above it, never repeating one. */
  maxSeq: number | undefined;
}

/** A journal of records of the union `R` (default: the station's, records.ts). */
export class Journal<R extends { type: string } = StationJournalRecord> {
  private queue: Pending[] = [];
  private flushing: Promise<void> | null = null;
  private closed = false;
  /** fdatasync rounds so far (one per group of synced records). */
  syncs = 0;

  private constructor(
    private readonly fh: FileHandle,
    readonly path: string,
    private nextSeq: number,
  ) {}

  /** Opens (creating if needed) the journal at `path`; returns it with what it already held. */
  static async open<R extends { type: string } = StationJournalRecord>(path: string): Promise<{ journal: Journal<R>; existing: ReadResult }> {
    await mkdir(dirname(path), { recursive: true, mode: STORE_DIR_MODE });
    const existing = await Journal.read(path);
    if (existing.tornTail) await Journal.trimTornTail(path);
    const fh = await open(path, 'a', STORE_FILE_MODE);
    return { journal: new Journal<R>(fh, path, (existing.maxSeq ?? 0) + 1), existing };
  }

  /** Reads every complete record (streaming, see scan.ts); a missing journal is an empty one. */
  static async read(path: string): Promise<ReadResult> {
    const records: JournalRecord[] = [];
    try {
      const { tornTail, sequenceProblems, maxSeq } = await scanJournal(path, (r) => records.push(r));
      return { records, tornTail, sequenceProblems, maxSeq };
    } catch (e) {
      if (e instanceof JournalError && e.code === 'JOURNAL_NOT_FOUND') return { records: [], tornTail: false, sequenceProblems: [], maxSeq: undefined };
      throw e;
    }
  }

  private static async trimTornTail(path: string): Promise<void> {
    const text = await readFile(path, 'utf8');
    const keep = text.slice(0, text.lastIndexOf('\n') + 1);
    const fh = await open(path, 'r+');
    try {
      await fh.truncate(Buffer.byteLength(keep));
      await fh.datasync();
    } finally {
      await fh.close();
    }
  }

  /**
   * Appends a record and resolves once it is on stable storage; with `sync: false`, once it is
   * written (it reaches stable storage with the next synced record, in order).
   */
  append<T extends R['type']>(type: T, fields: RecordFields<R, T>, opts: { sync?: boolean } = {}): Promise<JournalRecord> {
    if (this.closed) return Promise.reject(new JournalError('JOURNAL_CLOSED', `journal ${this.path} is closed`));
    const rec: JournalRecord = { seq: this.nextSeq++, at: new Date().toISOString(), type, ...fields };
    const line = JSON.stringify(rec) + '\n';
    return new Promise<JournalRecord>((resolve, reject) => {
      this.queue.push({ line, sync: opts.sync !== false, resolve: () => resolve(rec), reject });
      if (!this.flushing) this.flushing = this.flushLoop();
    });
  }

  private async flushLoop(): Promise<void> {
    try {
      while (this.queue.length) {
        const batch = this.queue;
        this.queue = [];
        try {
          await this.fh.appendFile(batch.map((p) => p.line).join(''));
          if (batch.some((p) => p.sync)) {
            await this.fh.datasync();
            this.syncs++;
          }
          for (const p of batch) p.resolve();
        } catch (e) {
          const err = new JournalError('JOURNAL_WRITE_FAILED', `cannot write journal ${this.path}: ${(e as Error).message}`, {
            hint: 'check free disk space and permissions; the station stops loading until the journal is writable',
            cause: e,
          });
          for (const p of batch) p.reject(err);
        }
      }
    } finally {
      this.flushing = null;
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    while (this.flushing) await this.flushing;
    await this.fh.close();
  }
}
