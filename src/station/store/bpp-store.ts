/**
 * The station's BPP store: imported Esbpp batches, each with an EID-sorted on-disk index and
 * one state byte per BPP. Lookups and state changes touch only the records concerned, so the
 * store's memory use does not grow with the number of BPPs.
 *
 *   STORE/batches/<batchId>/manifest.json   as delivered
 *   STORE/batches/<batchId>/bpps-NNNN.bin   data files, copied and hash-checked at import
 *   STORE/batches/<batchId>/index.bin       see index-file.ts
 *   STORE/batches/<batchId>/state.bin       one BppState byte per index record
 */
import { closeSync, existsSync, fdatasync, fdatasyncSync, mkdirSync, openSync, readdirSync, readFileSync, readSync, renameSync, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { IfppError } from '../../core/errors.ts';
import { bytesEqual } from '../../core/bytes.ts';
import { IndexReader, RECORD_SIZE, encodeRecord, type IndexEntry, type NewIndexEntry } from './index-file.ts';
import type { BatchManifest } from '../../core/formats/batch-manifest.ts';
import { STORE_DIR_MODE, STORE_FILE_MODE } from '../file-modes.ts';

export class StoreError extends IfppError {}

export const BppState = {
  available: 0,
  inFlight: 1,
  installed: 2,
  /** Failed after the secure channel opened: the one-time key is consumed, the BPP is dead. */
  failedKeyBurnt: 3,
  /** Failed before BF23 was accepted: key and BPP are still good; may be chosen again. */
  failedBeforeSecureChannel: 4,
  /** Refused at import (hash, signature or structure); never pushed. */
  rejected: 5,
} as const;
export type BppState = (typeof BppState)[keyof typeof BppState];
export const BPP_STATE_NAMES: Record<BppState, string> = {
  0: 'available',
  1: 'in flight',
  2: 'installed',
  3: 'failed (key burnt)',
  4: 'failed before secure channel',
  5: 'rejected at import',
};

export interface StoredBpp extends IndexEntry {
  batchId: string;
  state: BppState;
}

class Batch {
  readonly index: IndexReader;
  private stateFd: number;
  private dataFds = new Map<number, number>();
  /** Counts per state, kept up to date by setState once first asked for (the UI asks per unit). */
  private tally: Record<BppState, number> | undefined;
  private syncing: Promise<void> | undefined;
  private nextSync: Promise<void> | undefined;

  constructor(
    readonly dir: string,
    /** Replaced only when a re-import completes the batch (counts change). */
    public manifest: BatchManifest,
    private readonly readOnly = false,
  ) {
    this.index = new IndexReader(join(dir, 'index.bin'));
    this.stateFd = openSync(join(dir, 'state.bin'), readOnly ? 'r' : 'r+');
  }

  state(position: number): BppState {
    const b = new Uint8Array(1);
    readSync(this.stateFd, b, 0, 1, position);
    return b[0] as BppState;
  }

  private write(position: number, state: BppState): void {
    if (this.readOnly) throw new StoreError('STORE_READ_ONLY', `batch ${this.manifest.batchId} was opened read-only: no BPP state may change`);
    if (this.tally) {
      this.tally[this.state(position)]--;
      this.tally[state]++;
    }
    writeSync(this.stateFd, Uint8Array.of(state), 0, 1, position);
  }

  setState(position: number, state: BppState): void {
    this.write(position, state);
    fdatasyncSync(this.stateFd);
  }

  /** As setState, but the fdatasync runs off the event loop, shared by the changes made meanwhile. */
  setStateDurable(position: number, state: BppState): Promise<void> {
    this.write(position, state);
    return this.sync();
  }

  /** Group commit: a sync already running may predate this write, so join (or start) the next one. */
  private sync(): Promise<void> {
    if (!this.syncing) {
      const fd = this.stateFd;
      this.syncing = new Promise<void>((resolve, reject) => fdatasync(fd, (e) => (e ? reject(e) : resolve()))).finally(() => {
        this.syncing = undefined;
      });
      return this.syncing;
    }
    this.nextSync ??= this.syncing
      .catch(() => undefined)
      .then(() => {
        this.nextSync = undefined;
        return this.sync();
      });
    return this.nextSync;
  }

  counts(): Record<BppState, number> {
    if (!this.tally) {
      const all = new Uint8Array(this.index.count);
      if (all.length) readSync(this.stateFd, all, 0, all.length, 0);
      const c = { 0: 0, 1: 0, 2: 0, 3: 0, 4: 0, 5: 0 } as Record<BppState, number>;
      for (const s of all) c[s as BppState]++;
      this.tally = c;
    }
    return { ...this.tally };
  }

  readBpp(e: IndexEntry): Uint8Array {
    let fd = this.dataFds.get(e.fileNo);
    const file = this.manifest.dataFiles[e.fileNo];
    if (!file) throw new StoreError('STORE_DAMAGED', `batch ${this.manifest.batchId} has no data file #${e.fileNo}`);
    if (fd === undefined) {
      fd = openSync(join(this.dir, file), 'r');
      this.dataFds.set(e.fileNo, fd);
    }
    const out = new Uint8Array(e.length);
    const n = readSync(fd, out, 0, e.length, e.offset);
    if (n !== e.length) throw new StoreError('STORE_DAMAGED', `short read of a BPP in ${file} at offset ${e.offset}`);
    return out;
  }

  /**
   * Puts a BPP refused at import back, from a good copy of the batch: its bytes go into the
   * store's data file at the record's place and the record is rewritten (same EID and key, so
   * the index stays sorted), each made durable before the state becomes available, the last
   * step. A crash on the way leaves the BPP rejected, and importing again redoes it.
   */
  restore(position: number, record: NewIndexEntry, bpp: Uint8Array): void {
    if (this.state(position) !== BppState.rejected) throw new StoreError('STORE_NOT_REJECTED', `BPP #${position} of batch ${this.manifest.batchId} is not a rejected one`);
    const old = this.index.read(position);
    if (!bytesEqual(old.eid, record.eid) || !bytesEqual(old.otpk, record.otpk)) {
      throw new StoreError('STORE_DAMAGED', `BPP #${position} of batch ${this.manifest.batchId} is bound to another chip or key than the index line that completes it`);
    }
    const file = this.manifest.dataFiles[record.fileNo];
    if (!file) throw new StoreError('STORE_DAMAGED', `batch ${this.manifest.batchId} has no data file #${record.fileNo}`);
    writeAllDurably(join(this.dir, file), bpp, record.offset);
    writeAllDurably(join(this.dir, 'index.bin'), encodeRecord(record), position * RECORD_SIZE);
    this.setState(position, BppState.available);
  }

  close(): void {
    this.index.close();
    closeSync(this.stateFd);
    for (const fd of this.dataFds.values()) closeSync(fd);
  }
}

function writeAllDurably(path: string, bytes: Uint8Array, at: number): void {
  const fd = openSync(path, 'r+');
  try {
    for (let o = 0; o < bytes.length; ) o += writeSync(fd, bytes, o, bytes.length - o, at + o);
    fdatasyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

export interface BppStoreOpenOptions {
  /**
   * Look only (ifpp probe, reports): nothing is created, a missing store reads as empty, the
   * state files are opened for reading and any state change throws STORE_READ_ONLY.
   */
  readOnly?: boolean;
}

export class BppStore {
  private batches = new Map<string, Batch>();

  private constructor(
    readonly dir: string,
    private readonly readOnly = false,
  ) {}

  static open(dir: string, opts: BppStoreOpenOptions = {}): BppStore {
    const readOnly = opts.readOnly === true;
    const s = new BppStore(dir, readOnly);
    const root = join(dir, 'batches');
    if (readOnly && !existsSync(root)) return s;
    if (!readOnly) mkdirSync(root, { recursive: true, mode: STORE_DIR_MODE });
    for (const id of readdirSync(root).sort()) {
      const bdir = join(root, id);
      // A batch directory without its completion marker is a crashed import: ignore it.
      if (!existsSync(join(bdir, 'imported'))) continue;
      const manifest = JSON.parse(readFileSync(join(bdir, 'manifest.store.json'), 'utf8')) as BatchManifest;
      s.batches.set(manifest.batchId, new Batch(bdir, manifest, readOnly));
    }
    return s;
  }

  batchIds(): string[] {
    return [...this.batches.keys()];
  }

  manifest(batchId: string): BatchManifest {
    return this.batch(batchId).manifest;
  }

  private batch(batchId: string): Batch {
    const b = this.batches.get(batchId);
    if (!b) throw new StoreError('STORE_UNKNOWN_BATCH', `batch ${batchId} is not in the store ${this.dir}`);
    return b;
  }

  /** Every BPP bound to `eid`, across batches, with its state. */
  findByEid(eid: Uint8Array): StoredBpp[] {
    const out: StoredBpp[] = [];
    for (const [batchId, b] of this.batches) {
      for (const e of b.index.findByEid(eid)) out.push({ ...e, batchId, state: b.state(e.position) });
    }
    return out;
  }

  /**
   * The BPP to push into the chip `eid` whose unused one-time keys are `unusedOtpks`: one in a
   * loadable state, bound to this EID and to one of those keys. Undefined when none fits.
   */
  choose(eid: Uint8Array, unusedOtpks: readonly Uint8Array[]): StoredBpp | undefined {
    return this.loadable(eid, unusedOtpks)[0];
  }

  /** Every BPP that may be pushed into chip `eid` now: loadable state, bound to one of its unused keys. */
  loadable(eid: Uint8Array, unusedOtpks: readonly Uint8Array[]): StoredBpp[] {
    return this.findByEid(eid).filter(
      (c) =>
        (c.state === BppState.available || c.state === BppState.failedBeforeSecureChannel) &&
        bytesEqual(c.eid, eid) &&
        unusedOtpks.some((k) => bytesEqual(k, c.otpk)),
    );
  }

  readBpp(b: StoredBpp): Uint8Array {
    return this.batch(b.batchId).readBpp(b);
  }

  /** Every BPP of a batch in index order, with its state (the line import copies a batch with it). */
  *entries(batchId: string): Generator<StoredBpp> {
    const b = this.batch(batchId);
    for (let p = 0; p < b.index.count; p++) yield { ...b.index.read(p), batchId, state: b.state(p) };
  }

  stateAt(batchId: string, position: number): BppState {
    return this.batch(batchId).state(position);
  }

  /** Sets a BPP's state and waits for it to be on disk (fdatasync) before returning. */
  setState(b: Pick<StoredBpp, 'batchId' | 'position'>, state: BppState): void {
    this.batch(b.batchId).setState(b.position, state);
  }

  /**
   * Sets a BPP's state at once (lookups see it) and resolves once it is on disk. The fdatasync
   * runs on the thread pool and is shared by the changes other slots make meanwhile, so a
   * station with many slots neither blocks its event loop nor syncs once per change.
   */
  setStateDurable(b: Pick<StoredBpp, 'batchId' | 'position'>, state: BppState): Promise<void> {
    return this.batch(b.batchId).setStateDurable(b.position, state);
  }

  /** Counts per state, per batch: for the UI's "BPPs left" and for reports. Read from disk once, then kept up to date. */
  counts(): Map<string, Record<BppState, number>> {
    const m = new Map<string, Record<BppState, number>>();
    for (const [id, b] of this.batches) m.set(id, b.counts());
    return m;
  }

  /** @internal used by the importer to complete a batch from a good copy (see Batch.restore). */
  restore(batchId: string, position: number, record: NewIndexEntry, bpp: Uint8Array): void {
    this.batch(batchId).restore(position, record, bpp);
  }

  /** @internal used by the importer when it completes a batch. */
  updateManifest(batchId: string, manifest: BatchManifest): void {
    const b = this.batch(batchId);
    const path = join(b.dir, 'manifest.store.json');
    writeFileSync(path + '.new', JSON.stringify(manifest, null, 2), { mode: STORE_FILE_MODE });
    renameSync(path + '.new', path);
    b.manifest = manifest;
  }

  /** Folder of a batch in the store. */
  batchDir(batchId: string): string {
    return this.batch(batchId).dir;
  }

  /** @internal used by the importer once a batch is complete on disk. */
  attach(dir: string, manifest: BatchManifest): void {
    this.batches.set(manifest.batchId, new Batch(dir, manifest, this.readOnly));
  }

  close(): void {
    for (const b of this.batches.values()) b.close();
    this.batches.clear();
  }
}
