/**
 * `ifpp line import` and `ifpp line euicc import`: the same checks as the local imports, by
 * construction. A batch (or eUICC data file) is first imported into a throwaway local store
 * with the station's own importer (manifest and file hashes, CERT.DPpb chain, every BF23
 * signature, rejected lines kept as such), then copied from that store into PostgreSQL in one
 * transaction, in chunks, so memory does not grow with the batch. The database either holds
 * the whole batch or none of it.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BppStore } from '../station/store/bpp-store.ts';
import { importBatch, type ImportReport, type BatchChecks } from '../station/store/import-batch.ts';
import { EuiccStore, importEuiccData, type ImportEuiccDataResult } from '../station/euicc-data/euicc-store.ts';
import { dbError, inTransaction, type Db, type DbClient } from './db.ts';
import { LineError } from './errors.ts';

const CHUNK = 1000;

export interface LineImportOptions {
  checks: BatchChecks;
  /** Keep only the metadata, not the BPP bytes (benchmarks of very large inventories). */
  metadataOnly?: boolean;
  onProgress?: (phase: 'check' | 'copy', done: number, total: number) => void;
  /** Where the throwaway store goes (default: the OS temp folder). */
  workDir?: string;
}

export async function importBatchToLine(db: Db, url: string, batchDir: string, opts: LineImportOptions): Promise<ImportReport> {
  const work = mkdtempSync(join(opts.workDir ?? tmpdir(), 'ifpp-line-import-'));
  const store = BppStore.open(work);
  try {
    const report = await importBatch(store, batchDir, { checks: opts.checks, onProgress: (d, t) => opts.onProgress?.('check', d, t) });
    const m = store.manifest(report.batchId);
    try {
      await inTransaction(db, async (c) => {
        // The primary key refuses a second copy even when two imports of one batch race.
        const ins = await c.query(
          'INSERT INTO ifpp.batches (batch_id, smdpf_name, smdpf_oid, manifest) VALUES ($1, $2, $3, $4) ON CONFLICT (batch_id) DO NOTHING',
          [m.batchId, m.smdpf.name, m.smdpf.oid ?? null, JSON.stringify(m)],
        );
        if (ins.rowCount === 0) throw new LineError('LINE_BATCH_EXISTS', `batch ${m.batchId} is already in the line inventory`, { hint: 'nothing to do' });
        let rows: unknown[][] = [[], [], [], [], [], [], [], [], []];
        let done = 0;
        for (const b of store.entries(m.batchId)) {
          const bytes = opts.metadataOnly || b.length === 0 ? null : Buffer.from(store.readBpp(b));
          const vals = [b.position, b.eid, b.otpk, b.transactionId, b.iccid, b.sha256, bytes, b.state];
          vals.forEach((v, i) => rows[i]!.push(v instanceof Uint8Array && !(v instanceof Buffer) ? Buffer.from(v) : v));
          if (rows[0]!.length === CHUNK) {
            await insertChunk(c, m.batchId, rows);
            done += CHUNK;
            opts.onProgress?.('copy', done, m.count);
            rows = [[], [], [], [], [], [], [], [], []];
          }
        }
        if (rows[0]!.length) await insertChunk(c, m.batchId, rows);
        for (const r of report.rejected) {
          await c.query('INSERT INTO ifpp.rejections (batch_id, line, eid, code, reason) VALUES ($1, $2, $3, $4, $5)', [m.batchId, r.line, r.eid ?? null, r.code, r.reason]);
        }
      });
    } catch (e) {
      throw dbError(e, url);
    }
    opts.onProgress?.('copy', m.count, m.count);
    return report;
  } finally {
    store.close();
    rmSync(work, { recursive: true, force: true });
  }
}

async function insertChunk(c: DbClient, batchId: string, cols: unknown[][]): Promise<void> {
  // One statement per chunk: each column as an array, unnested server-side.
  await c.query(
    `INSERT INTO ifpp.bpps (batch_id, position, eid, otpk, transaction_id, iccid, sha256, bpp, state)
     SELECT $1, * FROM unnest($2::int[], $3::bytea[], $4::bytea[], $5::bytea[], $6::bytea[], $7::bytea[], $8::bytea[], $9::smallint[])`,
    [batchId, ...cols.slice(0, 8)],
  );
}

export async function importEuiccDataToLine(db: Db, url: string, file: string, name: string, workDir?: string): Promise<ImportEuiccDataResult> {
  const work = mkdtempSync(join(workDir ?? tmpdir(), 'ifpp-line-euicc-'));
  let store: EuiccStore | undefined;
  try {
    const result = await importEuiccData(work, file, name);
    store = EuiccStore.open(work, { readOnly: true });
    const s = store;
    try {
      await inTransaction(db, async (c) => {
        for (const set of s.dataSets()) {
          const ins = await c.query('INSERT INTO ifpp.euicc_sets (name, info) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING', [set.info.name, JSON.stringify(set.info)]);
          if (ins.rowCount === 0) throw new LineError('LINE_EUICC_DATA_EXISTS', `eUICC data "${set.info.name}" is already in the line database`, { hint: 'choose another --name' });
          let eids: Buffer[] = [];
          let certs: Buffer[] = [];
          const flush = async () => {
            await c.query('INSERT INTO ifpp.euicc_certs (eid, set_name, cert_euicc) SELECT e, $1, c FROM unnest($2::bytea[], $3::bytea[]) AS u(e, c)', [set.info.name, eids, certs]);
            eids = [];
            certs = [];
          };
          for (const e of set.entries()) {
            eids.push(Buffer.from(e.eid));
            certs.push(Buffer.from(e.certEuicc));
            if (eids.length === CHUNK) await flush();
          }
          if (eids.length) await flush();
        }
      });
    } catch (e) {
      throw dbError(e, url);
    }
    return result;
  } finally {
    store?.close();
    rmSync(work, { recursive: true, force: true });
  }
}
