/**
 * The profile an SM-DPf batch is made from: a SAIP DER file, or `synthetic[:BYTES]` for a
 * generated test profile (so a demo runs without ../shared). Checked like an eUICC would
 * (header first, end last) before any binding starts.
 */
import { readFileSync } from 'node:fs';
import { summarizeUpp, syntheticUpp, type UppSummary } from '../profiles/upp.ts';
import { isIfppError } from '../../core/errors.ts';
import { SmdpfError } from './errors.ts';

/** Filler for plain `synthetic`: about the size of a TS.48 test profile (~12 kB). */
export const SYNTHETIC_DEFAULT_FILLER = 11_000;
export const SYNTHETIC_ICCID = '8949449999999990015';

export interface ProfileSource {
  upp: Uint8Array;
  summary: UppSummary;
  /** What the user named (a path or "synthetic:N"). */
  label: string;
}

export function loadProfileSource(spec: string): ProfileSource {
  const m = /^synthetic(?::(\d+))?$/.exec(spec);
  let upp: Uint8Array;
  let label = spec;
  if (m) {
    const filler = m[1] === undefined ? SYNTHETIC_DEFAULT_FILLER : Number(m[1]);
    if (!Number.isSafeInteger(filler) || filler > 1 << 20) throw new SmdpfError('SMDPF_BAD_PROFILE', `synthetic profile size ${m[1]} is out of range (0..1048576)`);
    upp = syntheticUpp(SYNTHETIC_ICCID, filler);
    label = `synthetic:${filler}`;
  } else {
    try {
      upp = new Uint8Array(readFileSync(spec));
    } catch (e) {
      throw new SmdpfError('SMDPF_PROFILE_UNREADABLE', `cannot read profile package "${spec}" (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`, {
        hint: 'give a SAIP DER file (e.g. a TS.48 test profile) or synthetic[:BYTES]',
      });
    }
  }
  try {
    return { upp, summary: summarizeUpp(upp), label };
  } catch (e) {
    if (!isIfppError(e)) throw e;
    throw new SmdpfError('SMDPF_BAD_PROFILE', `profile package "${spec}" is not usable: ${e.message}`, { hint: 'give an unprotected SAIP profile package (DER)', cause: e });
  }
}
