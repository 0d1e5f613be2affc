/**
 * What `ifpp probe` finds wrong with the hardware a station config names. Each finding is a
 * typed ProbeError (code, message naming the bridge / slot / pin, hint), turned into a plain
 * ProbeProblem for the report and its JSON.
 */
import { IfppError } from '../../core/errors.ts';

export type ProbeCode =
  /** The bridge's device path does not exist (unplugged, wrong path, dangling link). */
  | 'PROBE_BRIDGE_MISSING'
  /** The bridge's port exists but cannot be opened (permissions, held by another program). */
  | 'PROBE_BRIDGE_UNAVAILABLE'
  /** The port opened but nothing answered INFO (not a bridge, wrong baud rate, hung firmware). */
  | 'PROBE_BRIDGE_SILENT'
  /** The bridge speaks another line protocol version. */
  | 'PROBE_BRIDGE_PROTOCOL'
  /** The bridge has fewer card channels than the config gives it. */
  | 'PROBE_BRIDGE_SLOTS'
  /** The bridge cannot supply the class loading.vcc asks for. */
  | 'PROBE_BRIDGE_VCC'
  /** loading.clockHz is below the slowest clock the bridge generates. */
  | 'PROBE_BRIDGE_CLOCK'
  /** A slot did not answer STATUS. */
  | 'PROBE_SLOT_STATUS'
  /** The bridge reports a supply fault on a slot. */
  | 'PROBE_SLOT_FAULT'
  /** --cards: the card in a slot did not activate (reset, ATR, PPS). */
  | 'PROBE_CARD_ACTIVATION'
  /** --cards: a read-only ES10 request failed (SELECT ISD-R, GetEID, EUICCInfo2, factory info). */
  | 'PROBE_CARD_ES10'
  /** --cards: the EID fails its check digits (and eidPolicy.verifyCheckDigits is on). */
  | 'PROBE_CARD_EID'
  /** --cards: the chip's EID is in none of the eUICC data imported into the store. */
  | 'PROBE_CARD_UNKNOWN'
  /** --cards: the chip's CERT.EUICC in the imported eUICC data does not verify up to its CI. */
  | 'PROBE_CARD_CERT'
  /** --cards: the store holds no BPP the station could push into this chip now (state, unused keys). */
  | 'PROBE_CARD_NO_BPP'
  /** --cards: loadable BPPs exist, but none from a batch whose CI the chip trusts. */
  | 'PROBE_CARD_UNTRUSTED_BATCH'
  /** --cards: the probe was about to send something that is not a read-only request (a bug). */
  | 'PROBE_NOT_READ_ONLY'
  /** The jig board's device path does not exist. */
  | 'PROBE_JIG_MISSING'
  /** The jig board's port exists but cannot be opened. */
  | 'PROBE_JIG_UNAVAILABLE'
  /** The port opened but the Firmata handshake did not finish. */
  | 'PROBE_JIG_SILENT'
  /** A configured pin does not exist on the board, or cannot work in its direction. */
  | 'PROBE_JIG_PIN'
  /** The board did not report its inputs (no answer to the pin-state query). */
  | 'PROBE_JIG_INPUTS';

/** Which part of the station a finding is about. */
export interface ProbePlace {
  bridge?: string;
  slot?: string;
  /** Device path as the config names it. */
  port?: string;
  /** Jig pin as the config wrote it ("6", "A0"). */
  pin?: string;
  /** The station's store folder (config.store), for findings about it. */
  store?: string;
}

export class ProbeError extends IfppError {
  declare readonly code: ProbeCode;
  readonly place: ProbePlace;

  constructor(code: ProbeCode, message: string, place: ProbePlace, opts: { hint?: string; cause?: unknown } = {}) {
    super(code, message, { details: { ...place }, ...opts });
    this.place = place;
  }
}

/** A finding as the report carries it (JSON-ready). */
export interface ProbeProblem extends ProbePlace {
  code: ProbeCode;
  message: string;
  hint?: string;
}

export function problemOf(e: ProbeError): ProbeProblem {
  return { code: e.code, message: e.message, ...(e.hint ? { hint: e.hint } : {}), ...e.place };
}

/** Something worth a look that does not stop production (e-stop pressed, chip without spare keys). */
export interface ProbeNote extends ProbePlace {
  message: string;
}

/** Problems and notes of one device, kept in the order they were found. */
export class Findings {
  readonly problems: ProbeProblem[] = [];
  readonly notes: ProbeNote[] = [];

  problem(e: ProbeError): void {
    this.problems.push(problemOf(e));
  }

  note(message: string, place: ProbePlace = {}): void {
    this.notes.push({ message, ...place });
  }

  add(other: Findings): void {
    this.problems.push(...other.problems);
    this.notes.push(...other.notes);
  }
}
