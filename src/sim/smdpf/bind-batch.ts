/**
 * The simulated SM-DPf's batch binding (Esbpp delivery, docs/formats.md): reads the eUICC data
 * line by line, binds M profiles per chip (one per one-time key, a fresh ephemeral key for
 * each), appends every BPP to the rolling data files as soon as it is made, and writes the
 * EID-sorted index and the manifest. Memory use is one chip line, one BPP, the write buffers
 * and a bounded index sort buffer, whatever the batch size.
 *
 * The batch is built in a sibling folder (OUT.partial) and renamed into place once complete,
 * so a crash never leaves something that looks like a batch.
 */
import type { IndexLine } from '../../core/formats/batch-index.ts';
import { createHash, randomUUID } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, renameSync, rmSync, rmdirSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { bindProfile } from '../../binding/bind.ts';
import { toHex, fromHex } from '../../core/bytes.ts';
import { isValidPublicKey } from '../../core/crypto/ecdh.ts';
import { isIfppError } from '../../core/errors.ts';
import { isValidEid } from '../../core/rsp/eid.ts';
import { iccidToBytes } from '../../core/rsp/iccid.ts';
import { nameValue, parseCertificate, type Certificate } from '../../core/x509/certificate.ts';
import { verifyCertificateSignature, verifyChain } from '../../core/x509/chain.ts';
import type { DeliveredFile, DeliveredManifest } from '../../core/formats/batch-manifest.ts';
import { readNdjson, EUICC_DATA_FORMAT, type EuiccDataChip, type EuiccDataHeader } from '../eum/formats.ts';
import { BufferedFileWriter } from '../eum/file-writer.ts';
import { withIccid } from '../profiles/upp.ts';
import { DATA_FILE_LIMIT, RollingDataWriter } from './data-files.ts';
import { SmdpfError } from './errors.ts';
import { IccidSequence } from './iccid-seq.ts';
import type { SmdpfIdentity } from './identity.ts';
import { DEFAULT_SORT_LINES, IndexSorter } from './index-sorter.ts';
import type { ProfileSource } from './profile-source.ts';

export const ESBPP_FORMAT = 'ifpp-esbpp/1';
export const INDEX_FILE = 'index.ndjson';
export const MANIFEST_FILE = 'manifest.json';

export interface BindBatchOptions {
  /** The eUICC data file (ifpp-euicc-data/1). */
  euiccData: string;
  profile: ProfileSource;
  dp: SmdpfIdentity;
  /** Output folder; must not exist yet (or be empty). */
  out: string;
  /** BPPs per chip, each bound to a different one-time key; default 1. */
  perEuicc?: number;
  /** Index of the first one-time key to use on each chip (a second batch takes the next keys); default 0. */
  firstOtk?: number;
  /** First ICCID (18 digits, or 19 with a valid Luhn digit): each BPP then gets the next one. */
  iccidStart?: string;
  serviceProviderName?: string;
  /** Default: the profile's type, else "test profile". */
  profileName?: string;
  replaceSessionKeys?: boolean;
  /** Check CERT.EUM up to the CI and each CERT.EUICC against it and its EID; default true. */
  checkEuiccCertificates?: boolean;
  /** Data file roll-over size; default 1 GiB. */
  maxDataFileBytes?: number;
  /** Index lines held in memory before sorting spills to disk; default 100 000. */
  sortLinesInMemory?: number;
  batchId?: string;
  /** Certificate validity is judged at this time; default now. */
  at?: Date;
  /** Called after every BPP. */
  onProgress?: (done: number, total: number) => void;
}

export interface BindBatchResult {
  dir: string;
  batchId: string;
  chips: number;
  count: number;
  files: DeliveredFile[];
  /** Time spent binding and writing (not reading certificates), and the rate it gives. */
  elapsedMs: number;
  bppsPerSecond: number;
  /** False when the eUICC data was not in EID order and the index had to be sorted. */
  inputSorted: boolean;
}

export type { IndexLine };

export async function bindBatch(o: BindBatchOptions): Promise<BindBatchResult> {
  const perEuicc = o.perEuicc ?? 1;
  const firstOtk = o.firstOtk ?? 0;
  if (!Number.isSafeInteger(perEuicc) || perEuicc < 1) throw new SmdpfError('SMDPF_BAD_OPTION', `BPPs per eUICC must be a positive integer, got ${perEuicc}`);
  if (!Number.isSafeInteger(firstOtk) || firstOtk < 0) throw new SmdpfError('SMDPF_BAD_OPTION', `first one-time key index must be 0 or more, got ${firstOtk}`);
  const out = resolve(o.out);
  const tmp = join(dirname(out), `${basename(out)}.partial`);
  if (existsSync(out) && readdirSync(out).length > 0) {
    throw new SmdpfError('SMDPF_OUT_EXISTS', `${out} already exists and is not empty`, { hint: 'give a new folder for the batch' });
  }
  const at = o.at ?? new Date();
  const iccids = o.iccidStart !== undefined ? new IccidSequence(o.iccidStart) : undefined;
  const metaBase = {
    serviceProviderName: o.serviceProviderName ?? 'IFPP Test Operator',
    profileName: o.profileName ?? o.profile.summary.profileType ?? 'test profile',
  };
  const dpPb = { curve: o.dp.key.curve, secretKey: o.dp.key.secretKey };
  const where = (line: number) => `${o.euiccData} line ${line}`;

  rmSync(tmp, { recursive: true, force: true });
  mkdirSync(tmp, { recursive: true });
  const data = new RollingDataWriter(tmp, o.maxDataFileBytes ?? DATA_FILE_LIMIT);
  const sorter = new IndexSorter(tmp, o.sortLinesInMemory ?? DEFAULT_SORT_LINES);
  let header: EuiccDataHeader | undefined;
  let ci: Certificate | undefined;
  let eumCheck: ((chip: EuiccDataChip, line: number) => void) | undefined;
  let chips = 0;
  let count = 0;
  let t0 = 0;
  try {
    for await (const item of readNdjson<EuiccDataHeader, EuiccDataChip>(o.euiccData, EUICC_DATA_FORMAT, 'eUICC data')) {
      if ('header' in item) {
        header = checkHeader(item.header, o.euiccData);
        ci = certFromHeader(header.ciCertificate, `${o.euiccData} header ciCertificate`);
        checkDpTrusted(o.dp, ci, at, o.euiccData);
        if (o.checkEuiccCertificates ?? true) eumCheck = euiccChecker(header, ci, at, o.euiccData);
        t0 = performance.now();
        continue;
      }
      const { record: chip, line } = item;
      const otpks = checkChip(chip, header!, line, perEuicc, firstOtk, where);
      eumCheck?.(chip, line);
      for (const otpk of otpks) {
        const iccid = iccids ? iccids.take() : o.profile.summary.iccid;
        let bound;
        try {
          bound = bindProfile({
            upp: iccids ? withIccid(o.profile.upp, iccid) : o.profile.upp,
            eid: chip.eid,
            euiccOtpk: fromHex(otpk),
            dpPb,
            metadata: { ...metaBase, iccid },
            replaceSessionKeys: o.replaceSessionKeys ?? false,
          });
        } catch (e) {
          if (!isIfppError(e)) throw e;
          throw new SmdpfError('SMDPF_BIND_FAILED', `${where(line)} (EID ${chip.eid}): ${e.message}`, { details: { cause: e.code }, cause: e });
        }
        const pos = data.append(bound.bpp);
        const entry: IndexLine = {
          eid: chip.eid,
          otpk,
          transactionId: toHex(bound.transactionId),
          iccid: toHex(iccidToBytes(iccid)),
          file: pos.file,
          offset: pos.offset,
          length: bound.bpp.length,
          sha256: createHash('sha256').update(bound.bpp).digest('hex'),
        };
        sorter.add(chip.eid + otpk, JSON.stringify(entry));
        count++;
        o.onProgress?.(count, header!.count * perEuicc);
      }
      chips++;
    }
    if (!header) throw new SmdpfError('SMDPF_EUICC_DATA_EMPTY', `${o.euiccData} is empty`, { hint: 'give the euicc-data.ndjson an EUM (or `ifpp sim eum`) wrote' });
    if (chips !== header.count) {
      throw new SmdpfError('SMDPF_EUICC_DATA_COUNT', `${o.euiccData}: the header announces ${header.count} chips, the file holds ${chips}`, {
        hint: 'the file is truncated or was edited; ask the EUM for the complete eUICC data',
      });
    }
    if (chips === 0) throw new SmdpfError('SMDPF_EUICC_DATA_EMPTY', `${o.euiccData} holds no chips`);

    const dataFiles = data.close();
    const index = new BufferedFileWriter(join(tmp, INDEX_FILE));
    try {
      await sorter.finish((line) => index.writeLine(line));
    } catch (e) {
      index.abandon();
      throw e;
    }
    const indexFile = { name: INDEX_FILE, ...index.close() };
    const elapsedMs = performance.now() - t0;
    const batchId = o.batchId ?? randomUUID();
    const files: DeliveredFile[] = [...dataFiles, indexFile];
    const manifest: DeliveredManifest = {
      format: ESBPP_FORMAT,
      batchId,
      smdpf: { name: o.dp.name, ...(o.dp.oid ? { oid: o.dp.oid } : {}) },
      createdAt: new Date().toISOString(),
      certDpPb: Buffer.from(o.dp.cert.raw).toString('base64'),
      ciCertificate: Buffer.from(ci!.raw).toString('base64'),
      count,
      files,
    };
    writeFileSync(join(tmp, MANIFEST_FILE), JSON.stringify(manifest, null, 2) + '\n');
    if (existsSync(out)) rmdirSync(out); // empty (checked above)
    renameSync(tmp, out);
    return { dir: out, batchId, chips, count, files, elapsedMs, bppsPerSecond: elapsedMs > 0 ? (count * 1000) / elapsedMs : 0, inputSorted: sorter.inOrder };
  } catch (e) {
    data.abandon();
    rmSync(tmp, { recursive: true, force: true });
    throw e;
  }
}

function checkHeader(h: EuiccDataHeader, path: string): EuiccDataHeader {
  const bad = (field: string, what: string): never => {
    throw new SmdpfError('SMDPF_BAD_EUICC_DATA', `${path} line 1 (header): "${field}" ${what}`, { hint: 'see docs/formats.md, eUICC data (ifpp-euicc-data/1)' });
  };
  if (h.curve !== 'nist' && h.curve !== 'brp') bad('curve', 'must be "nist" or "brp"');
  if (!Number.isSafeInteger(h.count) || h.count < 0) bad('count', 'must be a non-negative integer');
  for (const f of ['ciCertificate', 'eumCertificate'] as const) if (typeof h[f] !== 'string' || !h[f]) bad(f, 'must be base64 DER');
  return h;
}

function certFromHeader(b64: string, what: string): Certificate {
  try {
    return parseCertificate(new Uint8Array(Buffer.from(b64, 'base64')));
  } catch (e) {
    if (!isIfppError(e)) throw e;
    throw new SmdpfError('SMDPF_BAD_EUICC_DATA', `${what}: ${e.message}`, { cause: e });
  }
}

/** CERT.DPpb must chain to the CI the chips verify with, or every load would be refused. */
function checkDpTrusted(dp: SmdpfIdentity, ci: Certificate, at: Date, path: string): void {
  const r = verifyChain({ leaf: dp.cert, trustAnchors: [ci], at, role: 'dp-pb' });
  if (!r.ok) {
    throw new SmdpfError('SMDPF_DP_NOT_TRUSTED', `CERT.DPpb "${dp.cert.subject.text}" does not chain to the CI the chips trust (${ci.subject.text}, from ${path}): ${r.failure?.reason ?? 'no path'}`, {
      hint: 'use the SM-DPf identity made with this eUICC data (its smdpf/ folder), or --dp-cert/--dp-key issued under that CI',
      details: { x509: r.failure?.code },
    });
  }
}

/**
 * Checks CERT.EUM up to its CI once, then returns a per-chip check: CERT.EUICC signed by the
 * EUM, with the EID in its subject. That is what an SM-DPf needs to trust the eUICC data.
 */
function euiccChecker(h: EuiccDataHeader, ci: Certificate, at: Date, path: string): (chip: EuiccDataChip, line: number) => void {
  const eum = certFromHeader(h.eumCertificate, `${path} header eumCertificate`);
  const eumCi = h.eumCiCertificate ? certFromHeader(h.eumCiCertificate, `${path} header eumCiCertificate`) : ci;
  const r = verifyChain({ leaf: eum, trustAnchors: [eumCi], at, role: 'eum' });
  if (!r.ok) {
    throw new SmdpfError('SMDPF_EUM_NOT_TRUSTED', `${path}: CERT.EUM "${eum.subject.text}" does not chain to ${eumCi.subject.text}: ${r.failure?.reason ?? 'no path'}`, {
      hint: 'the eUICC data is not from a trusted EUM (or pass --no-cert-check for data you trust)',
    });
  }
  return (chip, line) => {
    let cert: Certificate;
    try {
      cert = parseCertificate(new Uint8Array(Buffer.from(String(chip.certEuicc), 'base64')));
    } catch (e) {
      if (!isIfppError(e)) throw e;
      throw new SmdpfError('SMDPF_BAD_EUICC_CERT', `${path} line ${line} (EID ${chip.eid}): certEuicc: ${e.message}`, { cause: e });
    }
    if (!verifyCertificateSignature(cert, eum)) {
      throw new SmdpfError('SMDPF_BAD_EUICC_CERT', `${path} line ${line} (EID ${chip.eid}): CERT.EUICC is not signed by the EUM certificate`, {
        hint: 'the line was altered or comes from another EUM',
      });
    }
    const sn = nameValue(cert.subject, 'serialNumber');
    if (sn !== chip.eid) {
      throw new SmdpfError('SMDPF_BAD_EUICC_CERT', `${path} line ${line}: CERT.EUICC names EID ${sn ?? '(none)'}, the line says ${chip.eid}`);
    }
  };
}

/** Validates a chip line and returns the one-time keys to bind, in index (hex) order. */
function checkChip(chip: EuiccDataChip, h: EuiccDataHeader, line: number, perEuicc: number, firstOtk: number, where: (l: number) => string): string[] {
  const bad = (what: string, hint?: string): never => {
    throw new SmdpfError('SMDPF_BAD_EUICC_LINE', `${where(line)}: ${what}`, hint ? { hint } : {});
  };
  if (typeof chip !== 'object' || chip === null) bad('not a JSON object');
  if (typeof chip.eid !== 'string' || !isValidEid(chip.eid)) bad(`EID ${JSON.stringify(chip.eid)} is not 32 digits with valid check digits (mod 97 == 1)`);
  if (!Array.isArray(chip.otpks)) bad(`EID ${chip.eid}: "otpks" must be an array`);
  if (chip.otpks.length < firstOtk + perEuicc) {
    bad(`EID ${chip.eid} has ${chip.otpks.length} one-time keys; binding ${perEuicc} from key #${firstOtk} needs ${firstOtk + perEuicc}`, 'lower --per-euicc or --first-otk');
  }
  const keys = chip.otpks.slice(firstOtk, firstOtk + perEuicc).map((k) => String(k).toLowerCase());
  for (const k of keys) {
    if (!/^04[0-9a-f]{128}$/.test(k) || !isValidPublicKey(h.curve, fromHex(k))) bad(`EID ${chip.eid}: one-time key ${k.slice(0, 16)}… is not a 65-byte point on ${h.curve}`);
  }
  if (new Set(keys).size !== keys.length) bad(`EID ${chip.eid} lists the same one-time key twice`);
  return keys.sort();
}
