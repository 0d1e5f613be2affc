/**
 * eUICC data (Esed2, public) and reel (simulator-only secrets) files: NDJSON with a header
 * line, see docs/formats.md. Readers stream line by line.
 */
import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';
import { IfppError } from '../../core/errors.ts';
import type { CurveName } from '../../core/crypto/curves.ts';

export class SimFormatError extends IfppError {}

export const EUICC_DATA_FORMAT = 'ifpp-euicc-data/1';
export const REEL_FORMAT = 'ifpp-reel/1';

export interface EuiccDataHeader {
  format: typeof EUICC_DATA_FORMAT;
  eum: string;
  eumCertificate: string; // base64 DER
  /** base64 DER: the CI the chips trust to verify CERT.DPpb (euiccCiPKIdListForVerification). */
  ciCertificate: string;
  /**
   * base64 DER: the CI that CERT.EUM (and so CERT.EUICC) chains to, present only when it is not
   * `ciCertificate` (e.g. the SGP.26 DPpb with a generated EUM PKI: that CI's key is not public).
   */
  eumCiCertificate?: string;
  curve: CurveName;
  count: number;
}

export interface EuiccDataChip {
  eid: string;
  certEuicc: string; // base64 DER
  otpks: string[]; // hex, 65-byte points
  euiccInfo2: string; // base64 BF22
}

export interface ReelHeader {
  format: typeof REEL_FORMAT;
  curve: CurveName;
  /** base64 DER: the CI the chips check CERT.DPpb chains against (PrepareFactoryLoad). */
  ciCertificate: string;
  /** base64 DER: the CI of the chips' own chain, present only when it is not `ciCertificate`. */
  eumCiCertificate?: string;
  eumCertificate: string;
  count: number;
}

export interface ReelChip {
  eid: string;
  certEuicc: string; // base64 DER
  skEuicc: string; // hex, SK.EUICC.ECDSA
  otks: { sk: string; pk: string }[];
  euiccInfo2: string; // base64 BF22
  /** Optional ATR override (hex). */
  atr?: string;
}

/** Reads an NDJSON file: the header, then each record, without loading the file. */
export async function* readNdjson<H, R>(path: string, format: string, what: string): AsyncGenerator<{ header: H } | { record: R; line: number }> {
  const rl = createInterface({ input: createReadStream(path), crlfDelay: Infinity });
  let line = 0;
  try {
    for await (const text of rl) {
      line++;
      if (!text.trim()) continue;
      let obj: unknown;
      try {
        obj = JSON.parse(text);
      } catch {
        throw new SimFormatError('SIM_FILE_MALFORMED', `${what} ${path} line ${line} is not valid JSON`);
      }
      if (line === 1) {
        if ((obj as { format?: unknown }).format !== format) {
          throw new SimFormatError('SIM_FILE_FORMAT', `${what} ${path} is not "${format}" (header says ${JSON.stringify((obj as { format?: unknown }).format)})`);
        }
        yield { header: obj as H };
      } else yield { record: obj as R, line };
    }
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') throw new SimFormatError('SIM_FILE_MISSING', `${what} ${path} does not exist`);
    throw e;
  } finally {
    rl.close();
  }
}

/** Loads a whole file (fine for the chip counts a simulated station uses). */
export async function loadNdjson<H, R>(path: string, format: string, what: string): Promise<{ header: H; records: R[] }> {
  let header: H | undefined;
  const records: R[] = [];
  for await (const item of readNdjson<H, R>(path, format, what)) {
    if ('header' in item) header = item.header;
    else records.push(item.record);
  }
  if (!header) throw new SimFormatError('SIM_FILE_MALFORMED', `${what} ${path} is empty`);
  return { header, records };
}
