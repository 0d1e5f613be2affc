/**
 * The station's copy of the EUM's eUICC data (Esed2): CERT.EUICC by EID, to verify the
 * eUICC-signed ProfileInstallationResults, and the EUM and CI certificates above them.
 *
 *   STORE/euicc/<name>/header.json   the file's header (EUM and CI certificates, curve)
 *   STORE/euicc/<name>/certs.bin     CERT.EUICC DER blobs back to back
 *   STORE/euicc/<name>/index.bin     24-byte records (EID 16 | offset 6 | length 2), EID-sorted
 *
 * Lookups are a binary search with positional reads, so memory does not grow with chip count.
 */
import { closeSync, existsSync, fstatSync, mkdirSync, openSync, readdirSync, readFileSync, readSync, renameSync, rmSync, writeFileSync, writeSync, fsyncSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { createReadStream } from 'node:fs';
import { IfppError } from '../../core/errors.ts';
import { eidFromBytes, eidToBytes, isValidEid } from '../../core/rsp/eid.ts';
import { compareKey, lowerBound } from '../store/index-file.ts';

export class EuiccDataError extends IfppError {}

const REC = 24;

export interface EuiccDataInfo {
  name: string;
  eum: string;
  curve: string;
  eumCertificate: string;
  ciCertificate: string;
  count: number;
  importedAt: string;
}

export interface ImportEuiccDataResult {
  name: string;
  count: number;
  skipped: { line: number; reason: string }[];
}

/** Imports an eUICC data file (docs/formats.md, ifpp-euicc-data/1), streaming. */
export async function importEuiccData(storeDir: string, file: string, name: string): Promise<ImportEuiccDataResult> {
  if (!/^[A-Za-z0-9._-]{1,64}$/.test(name)) throw new EuiccDataError('EUICC_DATA_BAD_NAME', `"${name}" is not a usable name (letters, digits, . _ -)`);
  if (!existsSync(file)) throw new EuiccDataError('EUICC_DATA_MISSING', `eUICC data file ${file} does not exist`);
  const dest = join(storeDir, 'euicc', name);
  if (existsSync(dest)) throw new EuiccDataError('EUICC_DATA_EXISTS', `eUICC data "${name}" is already imported`, { hint: 'choose another name' });
  const tmp = dest + '.importing';
  rmSync(tmp, { recursive: true, force: true });
  mkdirSync(tmp, { recursive: true });
  const certsFd = openSync(join(tmp, 'certs.bin'), 'w');
  const records: Uint8Array[] = [];
  const skipped: { line: number; reason: string }[] = [];
  let header: Record<string, unknown> | undefined;
  let offset = 0;
  let line = 0;
  try {
    const rl = createInterface({ input: createReadStream(file), crlfDelay: Infinity });
    for await (const text of rl) {
      line++;
      if (!text.trim()) continue;
      let obj: Record<string, unknown>;
      try {
        obj = JSON.parse(text) as Record<string, unknown>;
      } catch {
        if (line === 1) throw new EuiccDataError('EUICC_DATA_MALFORMED', `${file} line 1 is not JSON`, { hint: 'give an ifpp-euicc-data/1 file (docs/formats.md)' });
        skipped.push({ line, reason: 'not valid JSON' });
        continue;
      }
      if (line === 1) {
        if (obj.format !== 'ifpp-euicc-data/1') {
          throw new EuiccDataError('EUICC_DATA_FORMAT', `${file} is not an ifpp-euicc-data/1 file (format ${JSON.stringify(obj.format)})`);
        }
        header = obj;
        continue;
      }
      const eid = obj.eid;
      const cert = obj.certEuicc;
      if (typeof eid !== 'string' || !isValidEid(eid)) {
        skipped.push({ line, reason: 'EID missing or its check digits are wrong' });
        continue;
      }
      if (typeof cert !== 'string') {
        skipped.push({ line, reason: 'certEuicc missing' });
        continue;
      }
      const der = Buffer.from(cert, 'base64');
      if (der.length === 0 || der.length > 0xffff) {
        skipped.push({ line, reason: 'certEuicc empty or too large' });
        continue;
      }
      writeSync(certsFd, der);
      const r = new Uint8Array(REC);
      r.set(eidToBytes(eid), 0);
      const dv = new DataView(r.buffer);
      dv.setUint16(16, Math.floor(offset / 2 ** 32));
      dv.setUint32(18, offset >>> 0);
      dv.setUint16(22, der.length);
      records.push(r);
      offset += der.length;
    }
  } finally {
    fsyncSync(certsFd);
    closeSync(certsFd);
  }
  if (!header) throw new EuiccDataError('EUICC_DATA_MALFORMED', `${file} is empty`);
  // One small record per chip is kept in memory only during import, to sort it.
  records.sort((a, b) => compareKey(a, b, 16));
  const idx = openSync(join(tmp, 'index.bin'), 'w');
  const buf = new Uint8Array(records.length * REC);
  records.forEach((r, i) => buf.set(r, i * REC));
  writeSync(idx, buf);
  fsyncSync(idx);
  closeSync(idx);
  const info: EuiccDataInfo = {
    name,
    eum: String(header.eum ?? ''),
    curve: String(header.curve ?? ''),
    eumCertificate: String(header.eumCertificate ?? ''),
    ciCertificate: String(header.ciCertificate ?? ''),
    count: records.length,
    importedAt: new Date().toISOString(),
  };
  writeFileSync(join(tmp, 'header.json'), JSON.stringify(info, null, 2));
  renameSync(tmp, dest);
  return { name, count: records.length, skipped };
}

class EuiccDataSet {
  private idx: number;
  private certs: number;
  readonly count: number;
  private rec = new Uint8Array(REC);

  constructor(
    readonly dir: string,
    readonly info: EuiccDataInfo,
  ) {
    this.idx = openSync(join(dir, 'index.bin'), 'r');
    this.certs = openSync(join(dir, 'certs.bin'), 'r');
    this.count = fstatSync(this.idx).size / REC;
  }

  private read(p: number): Uint8Array {
    readSync(this.idx, this.rec, 0, REC, p * REC);
    return this.rec;
  }

  /** Every (EID, CERT.EUICC) in EID order. */
  *entries(): Generator<{ eid: Uint8Array; certEuicc: Uint8Array }> {
    for (let p = 0; p < this.count; p++) {
      const r = this.read(p);
      const eid = r.slice(0, 16);
      const dv = new DataView(r.buffer);
      const out = new Uint8Array(dv.getUint16(22));
      readSync(this.certs, out, 0, out.length, dv.getUint16(16) * 2 ** 32 + dv.getUint32(18));
      yield { eid, certEuicc: out };
    }
  }

  certFor(eid: Uint8Array): Uint8Array | undefined {
    const lo = lowerBound(this.count, (p) => this.read(p), eid, 16);
    if (lo >= this.count) return undefined;
    const r = this.read(lo);
    if (compareKey(r, eid, 16) !== 0) return undefined;
    const dv = new DataView(r.buffer);
    const off = dv.getUint16(16) * 2 ** 32 + dv.getUint32(18);
    const len = dv.getUint16(22);
    const out = new Uint8Array(len);
    readSync(this.certs, out, 0, len, off);
    return out;
  }

  close(): void {
    closeSync(this.idx);
    closeSync(this.certs);
  }
}

export interface EuiccRecord {
  eid: string;
  certEuicc: Uint8Array;
  eumCertificate: Uint8Array;
  ciCertificate: Uint8Array;
  source: string;
}

export class EuiccStore {
  private sets: EuiccDataSet[] = [];

  /** With `readOnly` nothing is created: a missing store reads as empty (ifpp probe). */
  static open(storeDir: string, opts: { readOnly?: boolean } = {}): EuiccStore {
    const s = new EuiccStore();
    const root = join(storeDir, 'euicc');
    if (opts.readOnly && !existsSync(root)) return s;
    if (!opts.readOnly) mkdirSync(root, { recursive: true });
    for (const name of readdirSync(root).sort()) {
      if (name.endsWith('.importing')) continue;
      const dir = join(root, name);
      if (!existsSync(join(dir, 'header.json'))) continue;
      s.sets.push(new EuiccDataSet(dir, JSON.parse(readFileSync(join(dir, 'header.json'), 'utf8')) as EuiccDataInfo));
    }
    return s;
  }

  get names(): string[] {
    return this.sets.map((s) => s.info.name);
  }

  /** Each imported data set's header and its chips (the line import copies them with it). */
  *dataSets(): Generator<{ info: EuiccDataInfo; entries: () => Generator<{ eid: Uint8Array; certEuicc: Uint8Array }> }> {
    for (const s of this.sets) yield { info: s.info, entries: () => s.entries() };
  }

  /** CERT.EUICC and the EUM/CI certificates for `eid`, or undefined when no data names it. */
  lookup(eid: string): EuiccRecord | undefined {
    const key = eidToBytes(eid);
    for (const s of this.sets) {
      const cert = s.certFor(key);
      if (cert) {
        return {
          eid: eidFromBytes(key, { verify: false }),
          certEuicc: cert,
          eumCertificate: new Uint8Array(Buffer.from(s.info.eumCertificate, 'base64')),
          ciCertificate: new Uint8Array(Buffer.from(s.info.ciCertificate, 'base64')),
          source: s.info.name,
        };
      }
    }
    return undefined;
  }

  close(): void {
    for (const s of this.sets) s.close();
    this.sets = [];
  }
}
