/**
 * Fixed-width, EID-sorted index of one imported BPP batch, searched on disk with positional
 * reads. A million BPPs need no memory beyond the OS page cache, and a lookup is ~20 reads.
 *
 * Record layout (RECORD_SIZE bytes, big-endian):
 *   0  eid            16
 *  16  otpk           65  uncompressed point the BPP is bound to
 *  81  fileNo          2  data file number within the batch
 *  83  offset          6  byte offset in that data file
 *  89  length          4  BPP length in bytes
 *  93  sha256         32  of the BPP bytes
 * 125  transactionId  16  from BF23 (zero-padded)
 * 141  txIdLength      1
 * 142  iccid          10  BCD as in the metadata (FF when unknown)
 * 152  reserved        8
 */
import { closeSync, openSync, readSync, writeSync, fstatSync } from 'node:fs';
import { IfppError } from '../../core/errors.ts';
import { STORE_FILE_MODE } from '../file-modes.ts';

export const RECORD_SIZE = 160;

export class StoreIndexError extends IfppError {}

export interface IndexEntry {
  /** Position of the record in the index (also the position of its state byte). */
  position: number;
  eid: Uint8Array;
  otpk: Uint8Array;
  fileNo: number;
  offset: number;
  length: number;
  sha256: Uint8Array;
  transactionId: Uint8Array;
  iccid: Uint8Array;
}

export type NewIndexEntry = Omit<IndexEntry, 'position'>;

export function encodeRecord(e: NewIndexEntry): Uint8Array {
  if (e.eid.length !== 16) throw new StoreIndexError('STORE_BAD_ENTRY', 'EID must be 16 bytes');
  if (e.otpk.length !== 65) throw new StoreIndexError('STORE_BAD_ENTRY', 'one-time public key must be a 65-byte point');
  if (e.transactionId.length > 16) throw new StoreIndexError('STORE_BAD_ENTRY', 'transactionId longer than 16 bytes');
  const r = new Uint8Array(RECORD_SIZE);
  const dv = new DataView(r.buffer);
  r.set(e.eid, 0);
  r.set(e.otpk, 16);
  dv.setUint16(81, e.fileNo);
  dv.setUint16(83, Math.floor(e.offset / 2 ** 32));
  dv.setUint32(85, e.offset >>> 0);
  dv.setUint32(89, e.length);
  r.set(e.sha256, 93);
  r.set(e.transactionId, 125);
  r[141] = e.transactionId.length;
  r.fill(0xff, 142, 152);
  r.set(e.iccid.subarray(0, 10), 142);
  return r;
}

export function decodeRecord(r: Uint8Array, position: number): IndexEntry {
  const dv = new DataView(r.buffer, r.byteOffset, r.byteLength);
  return {
    position,
    eid: r.slice(0, 16),
    otpk: r.slice(16, 81),
    fileNo: dv.getUint16(81),
    offset: dv.getUint16(83) * 2 ** 32 + dv.getUint32(85),
    length: dv.getUint32(89),
    sha256: r.slice(93, 125),
    transactionId: r.slice(125, 125 + Math.min(16, r[141]!)),
    iccid: r.slice(142, 152),
  };
}

/** Lexicographic compare of (eid, otpk) keys. */
export function compareKey(a: Uint8Array, b: Uint8Array, len = 81): number {
  for (let i = 0; i < len; i++) {
    const d = a[i]! - b[i]!;
    if (d !== 0) return d;
  }
  return 0;
}

/**
 * First position in a sorted record file whose key (the first `keyLen` bytes) is not below
 * `key`; `count` when none. Shared by the BPP index and the eUICC data index.
 */
export function lowerBound(count: number, recordAt: (position: number) => Uint8Array, key: Uint8Array, keyLen = key.length): number {
  let lo = 0;
  let hi = count;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (compareKey(recordAt(mid), key, keyLen) < 0) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** Writes records that arrive already sorted by (eid, otpk); refuses out-of-order input. */
export class IndexWriter {
  private fd: number;
  private last: Uint8Array | null = null;
  private buf = new Uint8Array(RECORD_SIZE * 1024);
  private fill = 0;
  count = 0;

  constructor(readonly path: string) {
    this.fd = openSync(path, 'w', STORE_FILE_MODE);
  }

  add(e: NewIndexEntry): void {
    const rec = encodeRecord(e);
    if (this.last && compareKey(this.last, rec) > 0) {
      throw new StoreIndexError('STORE_INDEX_UNSORTED', `batch index is not sorted by EID at entry ${this.count + 1}`, {
        hint: 'the batch index must be sorted by EID then one-time key (see docs/formats.md); ask the SM-DPf for a conforming batch',
      });
    }
    this.last = rec.slice(0, 81);
    this.buf.set(rec, this.fill);
    this.fill += RECORD_SIZE;
    this.count++;
    if (this.fill === this.buf.length) this.flush();
  }

  private flush(): void {
    let o = 0;
    while (o < this.fill) o += writeSync(this.fd, this.buf, o, this.fill - o);
    this.fill = 0;
  }

  close(): void {
    this.flush();
    closeSync(this.fd);
  }
}

/** Read side: binary search by EID with positional reads. */
export class IndexReader {
  private fd: number;
  readonly count: number;
  private rec = new Uint8Array(RECORD_SIZE);

  constructor(readonly path: string) {
    this.fd = openSync(path, 'r');
    const size = fstatSync(this.fd).size;
    if (size % RECORD_SIZE !== 0) {
      closeSync(this.fd);
      throw new StoreIndexError('STORE_INDEX_DAMAGED', `index ${path} has a partial record (size ${size})`, {
        hint: 'remove the batch from the store and import it again',
      });
    }
    this.count = size / RECORD_SIZE;
  }

  read(position: number): IndexEntry {
    this.readRaw(position);
    return decodeRecord(this.rec, position);
  }

  private readRaw(position: number): Uint8Array {
    const n = readSync(this.fd, this.rec, 0, RECORD_SIZE, position * RECORD_SIZE);
    if (n !== RECORD_SIZE) throw new StoreIndexError('STORE_INDEX_DAMAGED', `short read in ${this.path} at record ${position}`);
    return this.rec;
  }

  /** All entries for `eid`, in otpk order. */
  findByEid(eid: Uint8Array): IndexEntry[] {
    const lo = lowerBound(this.count, (p) => this.readRaw(p), eid, 16);
    const out: IndexEntry[] = [];
    for (let p = lo; p < this.count; p++) {
      const r = this.readRaw(p);
      if (compareKey(r, eid, 16) !== 0) break;
      out.push(decodeRecord(r, p));
    }
    return out;
  }

  close(): void {
    closeSync(this.fd);
  }
}
