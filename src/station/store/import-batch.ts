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
import { checkIndexLine, indexable, indexRecord, readFrom } from './import-line.ts';
import { completeBatch } from './complete-batch.ts';
import { checkIndexLineAgainstBpp, checkIndexLineShape, indexLineObject, type BppFacts, type IndexLine } from './index-line.ts';
import { parseDeliveredManifest, type BatchManifest } from '../../core/formats/batch-manifest.ts';
import { BppState, StoreError, type BppStore } from './bpp-store.ts';
import { STORE_DIR_MODE, STORE_FILE_MODE } from '../file-modes.ts';

/** The checks the importer needs; implemented with the protocol core in bpp-checks.ts. */
export interface BatchChecks {
  /** Throws an IfppError when CERT.DPpb does not chain to the CI certificate at `at`. */
  checkDpChain(certDpPb: Uint8Array, ciCert: Uint8Array, at: Date): void;
  /** Throws an IfppError when the BPP is malformed or its BF23 signature is not valid for `otpk`. */
  checkBpp(bpp: Uint8Array, otpk: Uint8Array, certDpPb: Uint8Array): BppFacts;
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
  /** Re-import of a batch already in the store: BPPs refused before that this copy supplied. */
  completed?: number;
}

export interface ImportOptions {
  checks: BatchChecks;
  at?: Date;
  onProgress?: (done: number, total: number) => void;
  /**
   * The one-time public keys the eUICC data in the store lists for a chip (undefined when no
   * data names it): each index line's key must be one of them.
   */
  chipKeys?: (eid: string) => readonly Uint8Array[] | undefined;
}

async function copyWithHash(src: string, dst: string): Promise<string> {
  const h = createHash('sha256');
  const tap = new Transform({
    transform(chunk: Buffer, _enc, cb) {
      h.update(chunk);
      cb(null, chunk);
    },
  });
  await pipeline(createReadStream(src), tap, createWriteStream(dst, { mode: STORE_FILE_MODE }));
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
  // A batch already in the store: this copy may complete what the first one lacked.
  if (store.batchIds().includes(m.batchId)) return completeBatch(store, batchDir, m, opts);
  const certDpPb = new Uint8Array(Buffer.from(m.certDpPb, 'base64'));
  const ci = new Uint8Array(Buffer.from(m.ciCertificate, 'base64'));
  opts.checks.checkDpChain(certDpPb, ci, opts.at ?? new Date());

  const dest = join(store.dir, 'batches', m.batchId);
  const tmp = dest + '.importing';
  rmSync(tmp, { recursive: true, force: true });
  mkdirSync(tmp, { recursive: true, mode: STORE_DIR_MODE });
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
    const stateFd = openSync(join(tmp, 'state.bin'), 'w', STORE_FILE_MODE);
    const rejected: ImportRejection[] = [];
    const fds = new Map<string, number>();
    let lineNo = 0;
    let bppLines = 0;
    let accepted = 0;
    try {
      const rl = createInterface({ input: createReadStream(join(tmp, 'index.ndjson')), crlfDelay: Infinity });
      for await (const raw of rl) {
        lineNo++;
        if (!raw.trim()) continue;
        bppLines++;
        const c = checkIndexLine(raw, lineNo, dataFiles, (line) => readFrom(fds, tmp, line), certDpPb, opts);
        if (c.rejection) rejected.push(c.rejection);
        else accepted++;
        // Rejected lines with a usable EID and key stay in the index (state "rejected") so a chip
        // whose only BPP was refused is reported as such, not as "no BPP".
        if (c.entry && indexable(c.entry)) {
          writer.add(indexRecord(c.entry, dataFiles, c.txId));
          writeSync(stateFd, Uint8Array.of(c.rejection ? BppState.rejected : BppState.available));
        }
        if (lineNo % 1000 === 0) opts.onProgress?.(lineNo, m.count);
      }
    } finally {
      writer.close();
      fsyncSync(stateFd);
      closeSync(stateFd);
      for (const fd of fds.values()) closeSync(fd);
    }
    // A count that disagrees means BPPs were lost or added in transit: the batch as a whole is
    // not what the SM-DPf sent, so none of it goes into the store.
    if (bppLines === 0) {
      throw new StoreError('BATCH_EMPTY', `${join(batchDir, 'index.ndjson')} lists no BPP`, { hint: 'the delivery is incomplete; ask the SM-DPf to resend the batch' });
    }
    if (bppLines !== m.count) {
      throw new StoreError('BATCH_COUNT_MISMATCH', `${manifestPath} says ${m.count} BPPs but index.ndjson has ${bppLines}`, {
        hint: 'BPPs were lost or added in transit; ask the SM-DPf to resend the batch',
      });
    }
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
    writeFileSync(join(tmp, 'manifest.store.json'), JSON.stringify(stored, null, 2), { mode: STORE_FILE_MODE });
    writeFileSync(join(tmp, 'rejected.ndjson'), rejected.map((r) => JSON.stringify(r) + '\n').join(''), { mode: STORE_FILE_MODE });
    writeFileSync(join(tmp, 'imported'), new Date().toISOString() + '\n', { mode: STORE_FILE_MODE });
    renameSync(tmp, dest);
    store.attach(dest, stored);
    opts.onProgress?.(lineNo, m.count);
    return { batchId: m.batchId, count: bppLines, accepted, rejected, warnings };
  } catch (e) {
    rmSync(tmp, { recursive: true, force: true });
    throw e;
  }
}


