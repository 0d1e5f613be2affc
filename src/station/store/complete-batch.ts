/**
 * A second delivery of a batch already in the store: the BPPs refused at the first import (a
 * truncated or damaged copy) are taken from this copy when they pass every check, and go into
 * the store in place (BppStore.restore); nothing else changes. The index must be the very one
 * imported before (same SHA-256, which the manifest vouches for), so every line keeps its
 * place. A batch with nothing refused is complete: importing it again stays an error.
 */
import { createHash } from 'node:crypto';
import { closeSync, createReadStream, existsSync, readFileSync, writeFileSync, renameSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import type { BatchManifest, DeliveredManifest } from '../../core/formats/batch-manifest.ts';
import { BppState, StoreError, type BppStore } from './bpp-store.ts';
import { checkIndexLine, indexRecord, indexable, readFrom } from './import-line.ts';
import type { ImportOptions, ImportRejection, ImportReport } from './import-batch.ts';
import { STORE_FILE_MODE } from '../file-modes.ts';

const sha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');

export async function completeBatch(store: BppStore, batchDir: string, m: DeliveredManifest, opts: ImportOptions): Promise<ImportReport> {
  const stored = store.manifest(m.batchId);
  const counts = store.counts().get(m.batchId)!;
  if (counts[BppState.rejected] === 0) {
    throw new StoreError('BATCH_ALREADY_IMPORTED', `batch ${m.batchId} is already in the store, complete (${stored.count} BPPs, none refused)`, { hint: 'nothing to do' });
  }
  const manifestPath = join(batchDir, 'manifest.json');
  if (m.certDpPb !== stored.certDpPb || m.ciCertificate !== stored.ciCertificate) {
    throw new StoreError('BATCH_CONFLICT', `${manifestPath} names batch ${m.batchId}, but its SM-DPf or CI certificate differs from the batch of that id in the store`, {
      hint: 'this is not a copy of the batch in the store; ask the SM-DPf which delivery is right',
    });
  }
  const bdir = store.batchDir(m.batchId);
  const indexFile = m.files.find((f) => f.name === 'index.ndjson');
  const srcIndex = join(batchDir, 'index.ndjson');
  if (!indexFile || !existsSync(srcIndex)) throw new StoreError('BATCH_FILE_MISSING', `${srcIndex} is missing`, { hint: 'copy the complete batch folder' });
  const indexBytes = new Uint8Array(readFileSync(srcIndex));
  const got = sha256(indexBytes);
  if (got !== indexFile.sha256) {
    throw new StoreError('BATCH_INDEX_DAMAGED', `${srcIndex}: SHA-256 ${got} differs from the manifest's ${indexFile.sha256}`, { hint: 'the index cannot be trusted; ask the SM-DPf to resend the batch' });
  }
  if (got !== sha256(new Uint8Array(readFileSync(join(bdir, 'index.ndjson'))))) {
    throw new StoreError('BATCH_CONFLICT', `${srcIndex} is not the index of batch ${m.batchId} in the store`, { hint: 'this is not a copy of the batch in the store; ask the SM-DPf which delivery is right' });
  }
  const certDpPb = new Uint8Array(Buffer.from(m.certDpPb, 'base64'));
  opts.checks.checkDpChain(certDpPb, new Uint8Array(Buffer.from(m.ciCertificate, 'base64')), opts.at ?? new Date());

  const warnings: string[] = [];
  for (const f of m.files) {
    if (f.name === 'index.ndjson' || f.name === 'manifest.json') continue;
    if (!stored.dataFiles.includes(f.name)) throw new StoreError('BATCH_CONFLICT', `${join(batchDir, f.name)} is not a data file of batch ${m.batchId} in the store`);
    const src = join(batchDir, f.name);
    if (!existsSync(src)) throw new StoreError('BATCH_FILE_MISSING', `${src} is listed in the manifest but missing`, { hint: 'copy the complete batch folder' });
    if (sha256(new Uint8Array(readFileSync(src))) !== f.sha256) warnings.push(`${f.name}: SHA-256 differs from the manifest; every BPP taken from it is checked on its own`);
  }

  const rejected: ImportRejection[] = [];
  const fds = new Map<string, number>();
  let lineNo = 0;
  let position = 0;
  let completed = 0;
  try {
    const rl = createInterface({ input: createReadStream(srcIndex), crlfDelay: Infinity });
    for await (const raw of rl) {
      lineNo++;
      if (!raw.trim()) continue;
      // Only lines with a record in the store's index have a place there (see importBatch).
      let parsed: unknown;
      try {
        parsed = JSON.parse(raw);
      } catch {
        parsed = undefined;
      }
      const here = parsed && typeof parsed === 'object' && indexable(parsed) ? position++ : undefined;
      if (here !== undefined && store.stateAt(m.batchId, here) !== BppState.rejected) continue;
      let bpp: Uint8Array | undefined;
      const c = checkIndexLine(raw, lineNo, stored.dataFiles, (line) => (bpp = readFrom(fds, batchDir, line)), certDpPb, opts);
      if (c.rejection || here === undefined || !c.entry || !bpp) {
        rejected.push(c.rejection ?? { line: lineNo, code: 'BATCH_BAD_INDEX_LINE', reason: `index.ndjson line ${lineNo} names no usable EID and key` });
        continue;
      }
      store.restore(m.batchId, here, indexRecord(c.entry, stored.dataFiles, c.txId), bpp);
      completed++;
      if (lineNo % 1000 === 0) opts.onProgress?.(lineNo, m.count);
    }
  } finally {
    for (const fd of fds.values()) closeSync(fd);
  }
  const after = store.counts().get(m.batchId)!;
  const accepted = stored.count - after[BppState.rejected];
  const manifest: BatchManifest = { ...stored, accepted, rejected: rejected.length, completedAt: new Date().toISOString() };
  store.updateManifest(m.batchId, manifest);
  const rejectedFile = join(bdir, 'rejected.ndjson');
  writeFileSync(rejectedFile + '.new', rejected.map((r) => JSON.stringify(r) + '\n').join(''), { mode: STORE_FILE_MODE });
  renameSync(rejectedFile + '.new', rejectedFile);
  opts.onProgress?.(lineNo, m.count);
  return { batchId: m.batchId, count: m.count, accepted, rejected, warnings, completed };
}
