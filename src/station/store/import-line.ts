/**
 * One index line of an Esbpp batch through the importer's checks, and the store's index record
 * made from it: shared by the first import (import-batch.ts) and a completing one
 * (complete-batch.ts).
 */
import { createHash } from 'node:crypto';
import { openSync, readSync } from 'node:fs';
import { join } from 'node:path';
import { fromHex } from '../../core/bytes.ts';
import { isIfppError } from '../../core/errors.ts';
import type { NewIndexEntry } from './index-file.ts';
import { checkIndexLineAgainstBpp, checkIndexLineShape, indexLineObject, type IndexLine } from './index-line.ts';
import { StoreError } from './bpp-store.ts';
import type { ImportOptions, ImportRejection } from './import-batch.ts';

export interface CheckedIndexLine {
  /** The line's fields as parsed (undefined when it is not JSON). */
  entry?: Partial<Record<keyof IndexLine, unknown>>;
  /** transactionId of the BPP, when it passed (empty otherwise). */
  txId: Uint8Array;
  rejection?: ImportRejection;
}

/**
 * One index line and its BPP through every check (shape, file, hash, BF23 signature, agreement
 * with the line and the chip's keys). `read` returns the BPP bytes the line points at.
 */
export function checkIndexLine(
  raw: string,
  lineNo: number,
  dataFiles: readonly string[],
  read: (line: IndexLine) => Uint8Array,
  certDpPb: Uint8Array,
  opts: Pick<ImportOptions, 'checks' | 'chipKeys'>,
): CheckedIndexLine {
  let entry: Partial<Record<keyof IndexLine, unknown>> | undefined;
  const where = `index.ndjson line ${lineNo}`;
  try {
    entry = indexLineObject(JSON.parse(raw), where);
    const line = checkIndexLineShape(entry, where);
    if (!dataFiles.includes(line.file)) throw new StoreError('BATCH_BAD_INDEX_LINE', `${where}: refers to file "${line.file}" that is not in the manifest`);
    const bpp = read(line);
    if (createHash('sha256').update(bpp).digest('hex') !== line.sha256.toLowerCase()) throw new StoreError('BPP_HASH_MISMATCH', 'SHA-256 of the BPP differs from the index');
    const facts = opts.checks.checkBpp(bpp, fromHex(line.otpk, 'otpk'), certDpPb);
    checkIndexLineAgainstBpp(line, facts, where, opts.chipKeys?.(line.eid));
    return { entry, txId: facts.transactionId };
  } catch (e) {
    if (!isIfppError(e) && !(e instanceof SyntaxError)) throw e;
    return {
      ...(entry ? { entry } : {}),
      txId: new Uint8Array(0),
      rejection: {
        line: lineNo,
        ...(typeof entry?.eid === 'string' && entry.eid ? { eid: entry.eid } : {}),
        code: isIfppError(e) ? e.code : 'BATCH_BAD_INDEX_LINE',
        reason: isIfppError(e) ? (e as Error).message : `${where} is not valid JSON`,
      },
    };
  }
}

/** A line with a usable EID and key gets a record in the store's index, accepted or not. */
export function indexable(entry: Partial<Record<keyof IndexLine, unknown>>): boolean {
  return /^[0-9]{32}$/.test(String(entry.eid)) && /^04[0-9a-fA-F]{128}$/.test(String(entry.otpk));
}

/** The store's index record for a line (fields a rejected line lacks are filled neutrally). */
export function indexRecord(entry: Partial<Record<keyof IndexLine, unknown>>, dataFiles: readonly string[], txId: Uint8Array): NewIndexEntry {
  return {
    eid: fromHex(String(entry.eid), 'eid'),
    otpk: fromHex(String(entry.otpk), 'otpk'),
    fileNo: Math.max(0, dataFiles.indexOf(String(entry.file))),
    offset: Number.isSafeInteger(entry.offset) && (entry.offset as number) >= 0 ? (entry.offset as number) : 0,
    length: Number.isSafeInteger(entry.length) && (entry.length as number) >= 0 ? (entry.length as number) : 0,
    sha256: /^[0-9a-f]{64}$/.test(String(entry.sha256)) ? fromHex(String(entry.sha256)) : new Uint8Array(32),
    transactionId: txId,
    iccid: /^[0-9a-fA-F]{20}$/.test(String(entry.iccid)) ? fromHex(String(entry.iccid)) : new Uint8Array(10).fill(0xff),
  };
}

/** Reads the BPP a line points at from the batch folder `dir`, keeping one descriptor per data file. */
export function readFrom(fds: Map<string, number>, dir: string, line: IndexLine): Uint8Array {
  let fd = fds.get(line.file);
  if (fd === undefined) fds.set(line.file, (fd = openSync(join(dir, line.file), 'r')));
  const bpp = new Uint8Array(line.length);
  if (readSync(fd, bpp, 0, line.length, line.offset) !== line.length) {
    throw new StoreError('BPP_TRUNCATED', `${line.file} ends before offset ${line.offset}+${line.length}`);
  }
  return bpp;
}
