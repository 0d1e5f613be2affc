/**
 * The world's `cardMs` knob: how long the simulated chip itself works on one profile load.
 * The eUICC simulator charges time per operation (timing.ts); this estimates what its default
 * model gives for a BPP of a given size and scales every operation to hit a chosen total.
 */
import { DEFAULT_TIMING, type EuiccTiming } from '../euicc/timing.ts';

/** Chip time of one unit at time scale 1, ms: PrepareFactoryLoad, the load calls, the signed result. */
export function cardModelMs(bppBytes: number, t: EuiccTiming = DEFAULT_TIMING): number {
  // BF36+BF23, A0, A1, one 88, A3, then one call per 86 segment (at most 1020 bytes each).
  const calls = 5 + Math.ceil(Math.max(0, bppBytes - 400) / 1020);
  const apdus = Math.ceil(bppBytes / 255) + calls;
  const s =
    t.certSeconds +
    t.verifySeconds +
    t.signSeconds +
    calls * (t.segmentSeconds + t.es10Seconds) +
    bppBytes * (t.nvmPerByteSeconds + t.perByteSeconds) +
    apdus * t.apduSeconds;
  return s * 1000;
}

/** The default timing with every operation scaled so one unit takes about `cardMs`. */
export function timingFor(cardMs: number, bppBytes: number): EuiccTiming {
  const f = cardMs / cardModelMs(bppBytes);
  const out = { ...DEFAULT_TIMING };
  for (const k of Object.keys(out) as (keyof EuiccTiming)[]) out[k] = DEFAULT_TIMING[k] * f;
  return out;
}
