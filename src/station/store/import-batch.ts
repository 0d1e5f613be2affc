/**
 * Streaming import of an Esbpp batch directory into the store. Nothing is held in memory but
 * the current index line and BPP: data files are copied with their hashes checked, each BPP is
 * hash-checked and its BF23 signature verified, and bad BPPs are recorded as rejected (with the
 * reason) without stopping the good ones.
 */
import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream, existsSync, mkdirSync, openSync, closeSync, readFileSync, readSync, renameSync, rmSync, writeFileSync, writeSync, fsyncSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { pipeline } from 'node:stream/promises';
import { Transform } from 'node:stream';
import { fromHex } from '../../core/bytes.ts';
import { IfppError, isIfppError } from '../../core/errors.ts';
import { IndexWriter } from './index-file.ts';
import { parseDeliveredManifest, type BatchManifest } from './manifest.ts';
import { BppState, StoreError, type BppStore } from './bpp-store.ts';

/** The checks the importer needs; implemented with the protocol core in bpp-checks.ts. */
export interface BatchChecks {
  /** Throws an IfppError when CERT.DPpb does not chain to the CI certificate at `at`. */
  checkDpChain(certDpPb: Uint8Array, ciCert: Uint8Array, at: Date): void;
  /** Throws an IfppError when the BPP is malformed or its BF23 signature is not valid for `otpk`. */
  checkBpp(bpp: Uint8Array, otpk: Uint8Array, certDpPb: Uint8Array): { transactionId: Uint8Array };
}

export interface ImportRejection {
  line: number;
  eid?: string;
  code: string;
  reason: string;
}

export interface ImportReport {
  batchId: string;
  count: number;
  accepted: number;
  rejected: ImportRejection[];
  warnings: string[];
}

export interface ImportOptions {
  checks: BatchChecks;
  at?: Date;
  onProgress?: (done: number, total: number) => void;
}

interface IndexLine {
  eid: string;
  otpk: string;
  transactionId?: string;
  iccid?: string;
  file: string;
  offset: number;
  length: number;
  sha256: string;
}

async function copyWithHash(src: string, dst: string): Promise<string> {
  const h = createHash('sha256');
  const tap = new Transform({
    transform(chunk: Buffer, _enc, cb) {
      h.update(chunk);
      cb(null, chunk);
    },
  });
  await pipeline(createReadStream(src), tap, createWriteStream(dst));
  const fd = openSync(dst, 'r+');
  fsyncSync(fd);
  closeSync(fd);
  return h.digest('hex');
}

export async function importBatch(store: BppStore, batchDir: string, opts: ImportOptions): Promise<ImportReport> {
  const manifestPath = join(batchDir, 'manifest.json');
  let text: string;
  try {
    text = readFileSync(manifestPath, 'utf8');
  } catch (e) {
    throw new StoreError('BATCH_UNREADABLE', `cannot read ${manifestPath}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`, {
      hint: 'give the folder of an Esbpp batch (it holds manifest.json, index.ndjson and bpps-*.bin)',
    });
  }
  const m = parseDeliveredManifest(text, manifestPath);
  if (store.batchIds().includes(m.batchId)) {
    throw new StoreError('BATCH_ALREADY_IMPORTED', `batch ${m.batchId} is already in the store`, { hint: 'nothing to do' });
  }
  const certDpPb = new Uint8Array(Buffer.from(m.certDpPb, 'base64'));
  const ci = new Uint8Array(Buffer.from(m.ciCertificate, 'base64'));
  opts.checks.checkDpChain(certDpPb, ci, opts.at ?? new Date());

  const dest = join(store.dir, 'batches', m.batchId);
  const tmp = dest + '.importing';
  rmSync(tmp, { recursive: true, force: true });
  mkdirSync(tmp, { recursive: true });
  const warnings: string[] = [];
  const dataFiles: string[] = [];
  try {
    for (const f of m.files) {
      const src = join(batchDir, f.name);
      if (!existsSync(src)) throw new StoreError('BATCH_FILE_MISSING', `${src} is listed in the manifest but missing`, { hint: 'copy the complete batch folder' });
      const got = await copyWithHash(src, join(tmp, f.name));
      if (got !== f.sha256) {
        if (f.name === 'index.ndjson') {
          throw new StoreError('BATCH_INDEX_DAMAGED', `${src}: SHA-256 ${got} differs from the manifest's ${f.sha256}`, {
            hint: 'the index cannot be trusted; ask the SM-DPf to resend the batch',
          });
        }
        warnings.push(`${f.name}: SHA-256 differs from the manifest; every BPP in it is checked on its own`);
      }
      if (f.name !== 'index.ndjson' && f.name !== 'manifest.json') dataFiles.push(f.name);
    }

    const writer = new IndexWriter(join(tmp, 'index.bin'));
    const stateFd = openSync(join(tmp, 'state.bin'), 'w');
    const rejected: ImportRejection[] = [];
    const fds = new Map<string, number>();
    let lineNo = 0;
    let accepted = 0;
    try {
      const rl = createInterface({ input: createReadStream(join(tmp, 'index.ndjson')), crlfDelay: Infinity });
      for await (const raw of rl) {
        lineNo++;
        if (!raw.trim()) continue;
        let state: BppState = BppState.available;
        let entry: IndexLine | undefined;
        let txId: Uint8Array = new Uint8Array(0);
        try {
          entry = JSON.parse(raw) as IndexLine;
          if (typeof entry.eid !== 'string' || !/^[0-9]{32}$/.test(entry.eid)) throw new StoreError('BATCH_BAD_INDEX_LINE', 'eid must be 32 digits');
          if (typeof entry.otpk !== 'string' || !/^04[0-9a-fA-F]{128}$/.test(entry.otpk)) throw new StoreError('BATCH_BAD_INDEX_LINE', 'otpk must be a 65-byte uncompressed point in hex');
          if (!Number.isSafeInteger(entry.offset) || !Number.isSafeInteger(entry.length) || entry.offset < 0 || entry.length <= 0 || entry.length > 16 << 20) {
            throw new StoreError('BATCH_BAD_INDEX_LINE', 'offset/length out of range');
          }
          const fileNo = dataFiles.indexOf(entry.file);
          if (fileNo < 0) throw new StoreError('BATCH_BAD_INDEX_LINE', `refers to file "${entry.file}" that is not in the manifest`);
          let fd = fds.get(entry.file);
          if (fd === undefined) fds.set(entry.file, (fd = openSync(join(tmp, entry.file), 'r')));
          const bpp = new Uint8Array(entry.length);
          if (readSync(fd, bpp, 0, entry.length, entry.offset) !== entry.length) {
            throw new StoreError('BPP_TRUNCATED', `${entry.file} ends before offset ${entry.offset}+${entry.length}`);
          }
          if (createHash('sha256').update(bpp).digest('hex') !== entry.sha256) throw new StoreError('BPP_HASH_MISMATCH', 'SHA-256 of the BPP differs from the index');
          txId = opts.checks.checkBpp(bpp, fromHex(entry.otpk, 'otpk'), certDpPb).transactionId;
          accepted++;
        } catch (e) {
          if (!isIfppError(e) && !(e instanceof SyntaxError)) throw e;
          state = BppState.rejected;
          rejected.push({
            line: lineNo,
            ...(entry?.eid ? { eid: entry.eid } : {}),
            code: isIfppError(e) ? e.code : 'BATCH_BAD_INDEX_LINE',
            reason: (e as Error).message,
          });
        }
        // Rejected lines with a usable EID and key stay in the index (state "rejected") so a chip
        // whose only BPP was refused is reported as such, not as "no BPP".
        if (entry && /^[0-9]{32}$/.test(String(entry.eid)) && /^04[0-9a-fA-F]{128}$/.test(String(entry.otpk))) {
          writer.add({
            eid: fromHex(entry.eid, 'eid'),
            otpk: fromHex(entry.otpk, 'otpk'),
            fileNo: Math.max(0, dataFiles.indexOf(entry.file)),
            offset: Number.isSafeInteger(entry.offset) && entry.offset >= 0 ? entry.offset : 0,
            length: Number.isSafeInteger(entry.length) && entry.length >= 0 ? entry.length : 0,
            sha256: /^[0-9a-f]{64}$/.test(entry.sha256 ?? '') ? fromHex(entry.sha256) : new Uint8Array(32),
            transactionId: txId,
            iccid: entry.iccid && /^[0-9a-fA-F]{20}$/.test(entry.iccid) ? fromHex(entry.iccid) : new Uint8Array(10).fill(0xff),
          });
          writeSync(stateFd, Uint8Array.of(state));
        }
        if (lineNo % 1000 === 0) opts.onProgress?.(lineNo, m.count);
      }
    } finally {
      writer.close();
      fsyncSync(stateFd);
      closeSync(stateFd);
      for (const fd of fds.values()) closeSync(fd);
    }
    if (lineNo !== m.count) warnings.push(`manifest says ${m.count} BPPs, index has ${lineNo} lines`);
    const stored: BatchManifest = {
      batchId: m.batchId,
      smdpf: m.smdpf,
      createdAt: m.createdAt,
      importedAt: new Date().toISOString(),
      certDpPb: m.certDpPb,
      ciCertificate: m.ciCertificate,
      dataFiles,
      count: writer.count,
      accepted,
      rejected: rejected.length,
    };
    writeFileSync(join(tmp, 'manifest.store.json'), JSON.stringify(stored, null, 2));
    writeFileSync(join(tmp, 'rejected.ndjson'), rejected.map((r) => JSON.stringify(r) + '\n').join(''));
    writeFileSync(join(tmp, 'imported'), new Date().toISOString() + '\n');
    renameSync(tmp, dest);
    store.attach(dest, stored);
    opts.onProgress?.(lineNo, m.count);
    return { batchId: m.batchId, count: lineNo, accepted, rejected, warnings };
  } catch (e) {
    rmSync(tmp, { recursive: true, force: true });
    throw e;
  }
}

