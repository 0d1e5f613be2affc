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
import { fromHex } from '../../core/bytes.ts';
import { compareKey, lowerBound } from '../store/index-file.ts';
import { STORE_DIR_MODE as DIR_MODE, STORE_FILE_MODE as FILE_MODE } from '../file-modes.ts';

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
  skipped: { line: number; code: string; reason: string }[];
  /** Things to look at that did not stop the import (e.g. another lot's EUM or CI). */
  warnings: string[];
}

/** Keeps two blobs per chip (CERT.EUICC, one-time keys) back to back, with a 24-byte record each. */
class BlobWriter {
  private fd: number;
  private offset = 0;
  readonly records: Uint8Array[] = [];
  constructor(path: string) {
    this.fd = openSync(path, 'w', FILE_MODE);
  }
  add(eid: Uint8Array, blob: Uint8Array): void {
    writeSync(this.fd, blob);
    const r = new Uint8Array(REC);
    r.set(eid, 0);
    const dv = new DataView(r.buffer);
    dv.setUint16(16, Math.floor(this.offset / 2 ** 32));
    dv.setUint32(18, this.offset >>> 0);
    dv.setUint16(22, blob.length);
    this.records.push(r);
    this.offset += blob.length;
  }
  close(): void {
    fsyncSync(this.fd);
    closeSync(this.fd);
  }
  /** Writes the records EID-sorted (they are kept in memory only during import, to sort them). */
  writeIndex(path: string): void {
    this.records.sort((a, b) => compareKey(a, b, 16));
    const idx = openSync(path, 'w', FILE_MODE);
    const buf = new Uint8Array(this.records.length * REC);
    this.records.forEach((r, i) => buf.set(r, i * REC));
    writeSync(idx, buf);
    fsyncSync(idx);
    closeSync(idx);
  }
}

const describeJson = (v: unknown): string => (v === null ? 'null' : Array.isArray(v) ? 'an array' : typeof v);

/** Imports an eUICC data file (docs/formats.md, ifpp-euicc-data/1), streaming. */
export interface ImportEuiccDataOptions {
  /** Refuse the whole file (EUICC_DATA_REJECTED, nothing stored) when any line is refused. */
  allOrNothing?: boolean;
}

export async function importEuiccData(storeDir: string, file: string, name: string, opts: ImportEuiccDataOptions = {}): Promise<ImportEuiccDataResult> {
  if (!/^[A-Za-z0-9._-]{1,64}$/.test(name)) throw new EuiccDataError('EUICC_DATA_BAD_NAME', `"${name}" is not a usable name (letters, digits, . _ -)`);
  if (!existsSync(file)) throw new EuiccDataError('EUICC_DATA_MISSING', `eUICC data file ${file} does not exist`);
  const dest = join(storeDir, 'euicc', name);
  if (existsSync(dest)) throw new EuiccDataError('EUICC_DATA_EXISTS', `eUICC data "${name}" is already imported`, { hint: 'choose another name' });
  // Folders this import creates go again when it fails: a refused import leaves nothing behind.
  const created = [storeDir, join(storeDir, 'euicc')].filter((d) => !existsSync(d));
  mkdirSync(join(storeDir, 'euicc'), { recursive: true, mode: DIR_MODE });
  const tmp = dest + '.importing';
  rmSync(tmp, { recursive: true, force: true });
  mkdirSync(tmp, { recursive: true, mode: DIR_MODE });
  try {
    // What the store already holds: a chip imported before must keep its certificate.
    const existing = EuiccStore.open(storeDir, { readOnly: true });
    const certs = new BlobWriter(join(tmp, 'certs.bin'));
    const keys = new BlobWriter(join(tmp, 'otpks.bin'));
    const skipped: ImportEuiccDataResult['skipped'] = [];
    const warnings: string[] = [];
    let header: Record<string, unknown> | undefined;
    let line = 0;
    try {
      const rl = createInterface({ input: createReadStream(file), crlfDelay: Infinity });
      for await (const text of rl) {
        line++;
        if (!text.trim()) continue;
        let v: unknown;
        try {
          v = JSON.parse(text);
        } catch {
          if (line === 1) throw new EuiccDataError('EUICC_DATA_MALFORMED', `${file} line 1 is not JSON`, { hint: 'give an ifpp-euicc-data/1 file (docs/formats.md)' });
          skipped.push({ line, code: 'EUICC_DATA_BAD_LINE', reason: 'not valid JSON' });
          continue;
        }
        if (typeof v !== 'object' || v === null || Array.isArray(v)) {
          if (line === 1) throw new EuiccDataError('EUICC_DATA_MALFORMED', `${file} line 1 is ${describeJson(v)}, not the header object`, { hint: 'give an ifpp-euicc-data/1 file (docs/formats.md)' });
          skipped.push({ line, code: 'EUICC_DATA_BAD_LINE', reason: `is ${describeJson(v)}, not a chip object` });
          continue;
        }
        const obj = v as Record<string, unknown>;
        if (line === 1) {
          if (obj.format !== 'ifpp-euicc-data/1') {
            throw new EuiccDataError('EUICC_DATA_FORMAT', `${file} is not an ifpp-euicc-data/1 file (format ${JSON.stringify(obj.format)})`);
          }
          header = obj;
          warnings.push(...lotWarnings(existing, file, obj));
          continue;
        }
        const eid = obj.eid;
        const cert = obj.certEuicc;
        if (typeof eid !== 'string' || !isValidEid(eid)) {
          skipped.push({ line, code: 'EUICC_DATA_BAD_EID', reason: 'EID missing or its check digits are wrong' });
          continue;
        }
        if (typeof cert !== 'string') {
          skipped.push({ line, code: 'EUICC_DATA_BAD_LINE', reason: 'certEuicc missing' });
          continue;
        }
        const der = Buffer.from(cert, 'base64');
        if (der.length === 0 || der.length > 0xffff) {
          skipped.push({ line, code: 'EUICC_DATA_BAD_LINE', reason: 'certEuicc empty or too large' });
          continue;
        }
        const otpks = obj.otpks ?? [];
        if (!Array.isArray(otpks) || otpks.some((k) => typeof k !== 'string' || !/^04[0-9a-fA-F]{128}$/.test(k))) {
          skipped.push({ line, code: 'EUICC_DATA_BAD_LINE', reason: 'otpks must be an array of 65-byte uncompressed points in hex' });
          continue;
        }
        const before = existing.lookup(eid);
        if (before && !Buffer.from(before.certEuicc).equals(der)) {
          skipped.push({
            line,
            code: 'EUICC_DATA_CERT_CONFLICT',
            reason: `EID ${eid} is already in the store (eUICC data "${before.source}") with a different CERT.EUICC; refused, the store keeps the first`,
          });
          continue;
        }
        const key = eidToBytes(eid);
        certs.add(key, der);
        keys.add(key, fromHex((otpks as string[]).join('')));
      }
    } finally {
      certs.close();
      keys.close();
      existing.close();
    }
    if (!header) throw new EuiccDataError('EUICC_DATA_MALFORMED', `${file} is empty`);
    certs.writeIndex(join(tmp, 'index.bin'));
    keys.writeIndex(join(tmp, 'otpks-index.bin'));
    const info: EuiccDataInfo = {
      name,
      eum: String(header.eum ?? ''),
      curve: String(header.curve ?? ''),
      eumCertificate: String(header.eumCertificate ?? ''),
      ciCertificate: String(header.ciCertificate ?? ''),
      count: certs.records.length,
      importedAt: new Date().toISOString(),
    };
    writeFileSync(join(tmp, 'header.json'), JSON.stringify(info, null, 2), { mode: FILE_MODE });
    if (opts.allOrNothing && skipped.length > 0) {
      const n = skipped.length;
      const shown = skipped.slice(0, 5).map((s) => `line ${s.line}: ${s.code} ${s.reason}`).join('; ');
      throw new EuiccDataError('EUICC_DATA_REJECTED', `${file}: ${n} line${n === 1 ? '' : 's'} refused (${shown}${n > 5 ? '; …' : ''}); nothing imported`, {
        hint: 'ask the EUM for a complete, valid file; or import the good lines only with --partial',
        details: { skipped },
      });
    }
    renameSync(tmp, dest);
    return { name, count: certs.records.length, skipped, warnings };
  } catch (e) {
    rmSync(tmp, { recursive: true, force: true });
    for (const d of created.reverse()) rmSync(d, { recursive: true, force: true });
    throw e;
  }
}

/** Another lot's data is allowed (a line runs several lots) but worth a look when its EUM or CI is new to the store. */
function lotWarnings(existing: EuiccStore, file: string, header: Record<string, unknown>): string[] {
  const sets = existing.infos;
  if (sets.length === 0) return [];
  const out: string[] = [];
  for (const [field, label] of [
    ['eumCertificate', 'EUM certificate'],
    ['ciCertificate', 'CI certificate'],
  ] as const) {
    if (!sets.some((s) => s[field] === header[field])) {
      out.push(`${file}: its ${label} differs from every eUICC data already in the store (${sets.map((s) => `"${s.name}"`).join(', ')}): another lot or another EUM; check it is meant for this line`);
    }
  }
  return out;
}

/** Sorted 24-byte records (EID 16 | offset 6 | length 2) over a blob file. */
class BlobIndex {
  private idx: number;
  private blobs: number;
  readonly count: number;
  private rec = new Uint8Array(REC);

  constructor(indexPath: string, blobPath: string) {
    this.idx = openSync(indexPath, 'r');
    this.blobs = openSync(blobPath, 'r');
    this.count = fstatSync(this.idx).size / REC;
  }

  private read(p: number): Uint8Array {
    readSync(this.idx, this.rec, 0, REC, p * REC);
    return this.rec;
  }

  /** Every (EID, blob) in EID order. */
  *entries(): Generator<{ eid: Uint8Array; blob: Uint8Array }> {
    for (let p = 0; p < this.count; p++) {
      const r = this.read(p);
      const eid = r.slice(0, 16);
      const dv = new DataView(r.buffer);
      const out = new Uint8Array(dv.getUint16(22));
      readSync(this.blobs, out, 0, out.length, dv.getUint16(16) * 2 ** 32 + dv.getUint32(18));
      yield { eid, blob: out };
    }
  }

  find(eid: Uint8Array): Uint8Array | undefined {
    const lo = lowerBound(this.count, (p) => this.read(p), eid, 16);
    if (lo >= this.count) return undefined;
    const r = this.read(lo);
    if (compareKey(r, eid, 16) !== 0) return undefined;
    const dv = new DataView(r.buffer);
    const off = dv.getUint16(16) * 2 ** 32 + dv.getUint32(18);
    const len = dv.getUint16(22);
    const out = new Uint8Array(len);
    readSync(this.blobs, out, 0, len, off);
    return out;
  }

  close(): void {
    closeSync(this.idx);
    closeSync(this.blobs);
  }
}

class EuiccDataSet {
  private certs: BlobIndex;
  /** Absent in stores imported before one-time keys were kept. */
  private keys: BlobIndex | undefined;

  constructor(
    readonly dir: string,
    readonly info: EuiccDataInfo,
  ) {
    this.certs = new BlobIndex(join(dir, 'index.bin'), join(dir, 'certs.bin'));
    this.keys = existsSync(join(dir, 'otpks-index.bin')) ? new BlobIndex(join(dir, 'otpks-index.bin'), join(dir, 'otpks.bin')) : undefined;
  }

  get count(): number {
    return this.certs.count;
  }

  /** Every (EID, CERT.EUICC) in EID order. */
  *entries(): Generator<{ eid: Uint8Array; certEuicc: Uint8Array }> {
    for (const e of this.certs.entries()) yield { eid: e.eid, certEuicc: e.blob };
  }

  certFor(eid: Uint8Array): Uint8Array | undefined {
    return this.certs.find(eid);
  }

  /** The chip's one-time public keys; undefined when this data set does not keep them. */
  keysFor(eid: Uint8Array): Uint8Array[] | undefined {
    if (!this.keys) return undefined;
    const blob = this.keys.find(eid);
    if (!blob) return undefined;
    const out: Uint8Array[] = [];
    for (let o = 0; o + 65 <= blob.length; o += 65) out.push(blob.slice(o, o + 65));
    return out.length ? out : undefined; // a line with no keys cannot vouch for any
  }

  close(): void {
    this.certs.close();
    this.keys?.close();
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
  private closed = false;

  private constructor(
    private readonly root: string,
    private readonly lookForNew: boolean,
  ) {}

  /**
   * With `readOnly` nothing is created: a missing store reads as empty (ifpp probe). With
   * `lookForNew`, a lookup that finds nothing looks for data sets imported since (the station:
   * a line station copies the line's new eUICC data into its store while it runs).
   */
  static open(storeDir: string, opts: { readOnly?: boolean; lookForNew?: boolean } = {}): EuiccStore {
    const s = new EuiccStore(join(storeDir, 'euicc'), opts.lookForNew ?? false);
    if (opts.readOnly && !existsSync(s.root)) return s;
    if (!opts.readOnly) mkdirSync(s.root, { recursive: true, mode: DIR_MODE });
    s.openNewSets();
    return s;
  }

  /** Opens data sets imported into the folder since (a set appears whole: its import renames a finished folder into place). True when there was one. */
  private openNewSets(): boolean {
    if (this.closed || !existsSync(this.root)) return false;
    const known = new Set(this.sets.map((x) => x.info.name));
    let added = false;
    for (const name of readdirSync(this.root).sort()) {
      if (name.endsWith('.importing') || known.has(name)) continue;
      const dir = join(this.root, name);
      if (!existsSync(join(dir, 'header.json'))) continue;
      this.sets.push(new EuiccDataSet(dir, JSON.parse(readFileSync(join(dir, 'header.json'), 'utf8')) as EuiccDataInfo));
      added = true;
    }
    if (added) this.sets.sort((a, b) => (a.info.name < b.info.name ? -1 : a.info.name > b.info.name ? 1 : 0));
    return added;
  }

  get names(): string[] {
    return this.sets.map((s) => s.info.name);
  }

  /** Each imported data set's header and its chips (the line import copies them with it). */
  *dataSets(): Generator<{ info: EuiccDataInfo; entries: () => Generator<{ eid: Uint8Array; certEuicc: Uint8Array }> }> {
    for (const s of this.sets) yield { info: s.info, entries: () => s.entries() };
  }

  get infos(): EuiccDataInfo[] {
    return this.sets.map((s) => s.info);
  }

  /**
   * The one-time public keys the eUICC data lists for `eid` (as imported, used or not), or
   * undefined when no data set that keeps keys names the chip.
   */
  oneTimeKeys(eid: string): Uint8Array[] | undefined {
    const key = eidToBytes(eid);
    for (const s of this.sets) {
      if (!s.certFor(key)) continue;
      const keys = s.keysFor(key);
      if (keys) return keys;
    }
    return undefined;
  }

  /** CERT.EUICC and the EUM/CI certificates for `eid`, or undefined when no data names it. */
  lookup(eid: string): EuiccRecord | undefined {
    // A station's miss is rare (a chip of no imported lot) and costs one readdir.
    return this.find(eid) ?? (this.lookForNew && this.openNewSets() ? this.find(eid) : undefined);
  }

  private find(eid: string): EuiccRecord | undefined {
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
    this.closed = true;
    for (const s of this.sets) s.close();
    this.sets = [];
  }
}
