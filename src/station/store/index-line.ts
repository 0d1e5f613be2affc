/**
 * One line of a batch's index.ndjson (docs/formats.md): its shape, and its agreement with the
 * BPP it points at. The index is what the station later trusts to pick a BPP for a chip, so a
 * line that says something the BPP does not (another transactionId, another ICCID, a key the
 * chip never had) is refused rather than stored.
 */
import { bytesEqual, fromHex, toHex } from '../../core/bytes.ts';
import { isValidEid } from '../../core/rsp/eid.ts';
import type { IndexLine } from '../../core/formats/batch-index.ts';
import { StoreError } from './bpp-store.ts';

export type { IndexLine };

/** What the importer read from the BPP itself (BatchChecks.checkBpp). */
export interface BppFacts {
  transactionId: Uint8Array;
  /** The 10 bytes of tag 5A in the StoreMetadata (88 segments, MAC-only so readable). */
  iccid: Uint8Array;
}

const bad = (where: string, what: string): StoreError =>
  new StoreError('BATCH_BAD_INDEX_LINE', `${where}: ${what}`, { hint: 'the index does not follow docs/formats.md; ask the SM-DPf for a conforming batch' });

/** The parsed JSON of a line as an object with loosely typed fields; throws when it is not an object at all. */
export function indexLineObject(v: unknown, where: string): Partial<Record<keyof IndexLine, unknown>> {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw bad(where, `is ${v === null ? 'null' : Array.isArray(v) ? 'an array' : typeof v}, not an object`);
  return v as Partial<Record<keyof IndexLine, unknown>>;
}

/** Checks every field's shape (EID check digits included); returns the line typed. */
export function checkIndexLineShape(o: Partial<Record<keyof IndexLine, unknown>>, where: string): IndexLine {
  if (typeof o.eid !== 'string' || !/^[0-9]{32}$/.test(o.eid)) throw bad(where, 'eid must be 32 digits');
  if (!isValidEid(o.eid)) throw new StoreError('BATCH_BAD_EID', `${where}: EID ${o.eid} fails its check digits (mod 97 != 1)`, { hint: 'the index names no real chip; ask the SM-DPf' });
  if (typeof o.otpk !== 'string' || !/^04[0-9a-fA-F]{128}$/.test(o.otpk)) throw bad(where, 'otpk must be a 65-byte uncompressed point in hex');
  if (typeof o.transactionId !== 'string' || !/^([0-9a-fA-F]{2}){1,16}$/.test(o.transactionId)) throw bad(where, 'transactionId must be 1 to 16 bytes in hex');
  if (typeof o.iccid !== 'string' || !/^[0-9a-fA-F]{20}$/.test(o.iccid)) throw bad(where, 'iccid must be the 10 bytes of tag 5A in hex');
  if (typeof o.file !== 'string') throw bad(where, 'file must name a data file');
  if (!Number.isSafeInteger(o.offset) || !Number.isSafeInteger(o.length) || (o.offset as number) < 0 || (o.length as number) <= 0 || (o.length as number) > 16 << 20) {
    throw bad(where, 'offset/length out of range');
  }
  if (typeof o.sha256 !== 'string' || !/^[0-9a-fA-F]{64}$/.test(o.sha256)) throw bad(where, 'sha256 must be 64 hex digits');
  return o as IndexLine;
}

/**
 * The line against its BPP and, when the eUICC data of its chip is in the store, against the
 * chip's one-time keys. (The BF23 signature check already binds the BPP to `otpk`.)
 */
export function checkIndexLineAgainstBpp(line: IndexLine, bpp: BppFacts, where: string, chipKeys: readonly Uint8Array[] | undefined): void {
  const mismatch = (field: string, index: string, actual: string): StoreError =>
    new StoreError('BATCH_INDEX_MISMATCH', `${where}: ${field} in the index (${index}) differs from the BPP's (${actual})`, {
      hint: 'the index was altered or belongs to another batch; ask the SM-DPf to resend the batch',
      details: { field },
    });
  if (!bytesEqual(fromHex(line.transactionId), bpp.transactionId)) throw mismatch('transactionId', line.transactionId.toLowerCase(), toHex(bpp.transactionId));
  if (!bytesEqual(fromHex(line.iccid), bpp.iccid)) throw mismatch('iccid', line.iccid.toLowerCase(), toHex(bpp.iccid));
  if (chipKeys !== undefined) {
    const key = fromHex(line.otpk);
    if (!chipKeys.some((k) => bytesEqual(k, key))) {
      throw new StoreError('BATCH_UNKNOWN_OTPK', `${where}: one-time key ${line.otpk.slice(0, 18)}… is not among the ${chipKeys.length} keys the eUICC data lists for EID ${line.eid}`, {
        hint: 'the BPP is bound to a key this chip does not have (another lot, or altered eUICC data); ask the SM-DPf and the EUM',
      });
    }
  }
}
