/**
 * The simulated chip's own processing time, reported to the bridge per TPDU (the bridge adds
 * the contact time and paces the answer). Defaults are in the range of current eUICCs: a BPP of
 * a TS.48 profile (about 13 kB) costs roughly a second of card time, mostly NVM writes.
 */
import { EuiccConfigError } from './errors.ts';

export interface EuiccTiming {
  /** Per APDU: decoding and dispatch. */
  apduSeconds: number;
  /** Per data byte into or out of an APDU (buffer copies). */
  perByteSeconds: number;
  /** Per complete ES10 request (parse, answer). */
  es10Seconds: number;
  /** Per BPP load call: decrypt, check the MAC, process. */
  segmentSeconds: number;
  /** Per byte of a BPP load call: the NVM write. */
  nvmPerByteSeconds: number;
  /** BF23: ECDSA verification, ECDH and key derivation. */
  verifySeconds: number;
  /** PrepareFactoryLoad: CERT.DPpb chain verification. */
  certSeconds: number;
  /** Signing a ProfileInstallationResult. */
  signSeconds: number;
}

export const DEFAULT_TIMING: Readonly<EuiccTiming> = {
  apduSeconds: 0.0003,
  perByteSeconds: 0.000001,
  es10Seconds: 0.002,
  segmentSeconds: 0.004,
  nvmPerByteSeconds: 0.00005,
  verifySeconds: 0.12,
  certSeconds: 0.1,
  signSeconds: 0.05,
};

export function timingWith(over: Partial<EuiccTiming> | undefined): EuiccTiming {
  const t = { ...DEFAULT_TIMING, ...(over ?? {}) };
  for (const [k, v] of Object.entries(t)) {
    if (typeof v !== 'number' || !(v >= 0) || !Number.isFinite(v)) throw new EuiccConfigError('EUICC_BAD_TIMING', `timing.${k} must be a finite number >= 0, got ${String(v)}`);
  }
  return t;
}
