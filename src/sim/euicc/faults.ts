/**
 * Fault switches of the simulated eUICC. A plain mutable object (tests flip fields at any time;
 * the bridge process takes the same shape as JSON card options) read by the card on every
 * command.
 */
import type { PpsMode } from './atr.ts';
import { EuiccConfigError } from './errors.ts';

export interface EuiccFaults {
  /**
   * The card does not answer (reset, PPS, APDUs). 'untilPowerOff': until the next
   * deactivation, like a hung chip; 'always': for good.
   */
  mute: false | 'untilPowerOff' | 'always';
  /** Go mute ('untilPowerOff') when the Nth call of a BPP load arrives (1 = BF36+BF23), before processing it. */
  muteAtLoadCall: number | undefined;
  /**
   * The card is pulled when the Nth call of a BPP load arrives (1 = BF36+BF23), before it is
   * processed: the card's `onRemoval` hook runs (a test or bridge removes the card from its
   * slot there), and the card stays silent until it is powered again. What the chip had
   * committed (a consumed one-time key) stays.
   */
  removeAtLoadCall: number | undefined;
  /** Slow NVM: extra time per BPP load call, plus per byte of the call. */
  slowNvm: { perCallSeconds: number; perByteSeconds?: number } | undefined;
  /** No NVM left: the first profile segment fails with installFailedDueToInsufficientMemoryForProfile. */
  outOfMemory: boolean;
  /** PPS behaviour: 'normal' (echo supported rates), 'decline' (stay at Fd/Dd), 'mute' (no answer). */
  pps: PpsMode;
  /**
   * Status words in place of 9000 on ES10 answers the chip carried out (data unchanged), like
   * chips that signal a pending proactive command (91xx) or a warning (62xx/63xx); an error
   * status word (anything else) refuses the request without carrying it out. A rule
   * matches a BPP load call by number (1 = BF36+BF23), or an ES10 request by its tag (e.g.
   * 0xBF3E GetEID), or, with neither, every ES10 answer; the first matching rule wins.
   */
  statusWords: StatusWordRule[] | undefined;
}

export interface StatusWordRule {
  sw: number;
  loadCall?: number;
  tag?: number;
}

export const NO_FAULTS: Readonly<EuiccFaults> = {
  mute: false,
  muteAtLoadCall: undefined,
  removeAtLoadCall: undefined,
  slowNvm: undefined,
  outOfMemory: false,
  pps: 'normal',
  statusWords: undefined,
};

/** Fault switches from (JSON) options, checked. */
export function faultsFrom(over: Partial<EuiccFaults> | undefined): EuiccFaults {
  const f: EuiccFaults = { ...NO_FAULTS, ...(over ?? {}) };
  const bad = (why: string) => new EuiccConfigError('EUICC_BAD_FAULTS', `faults: ${why}`);
  if (f.mute !== false && f.mute !== 'untilPowerOff' && f.mute !== 'always') throw bad('mute must be false, "untilPowerOff" or "always"');
  for (const k of ['muteAtLoadCall', 'removeAtLoadCall'] as const) {
    const v = f[k];
    if (v !== undefined && (!Number.isInteger(v) || v < 1)) throw bad(`${k} must be an integer >= 1`);
  }
  if (f.slowNvm !== undefined && !(f.slowNvm.perCallSeconds >= 0 && (f.slowNvm.perByteSeconds ?? 0) >= 0)) throw bad('slowNvm times must be >= 0');
  if (typeof f.outOfMemory !== 'boolean') throw bad('outOfMemory must be a boolean');
  for (const r of f.statusWords ?? []) {
    if (!Number.isInteger(r.sw) || r.sw < 0x6000 || r.sw > 0x9fff) throw bad('statusWords[].sw must be a status word 0x6000..0x9FFF');
  }
  if (f.pps !== 'normal' && f.pps !== 'decline' && f.pps !== 'mute') throw bad('pps must be "normal", "decline" or "mute"');
  return f;
}
