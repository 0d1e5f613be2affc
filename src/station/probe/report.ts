/** The shape of a probe's result: what `ifpp probe --json` prints and the text view renders. */
import type { Negotiation } from '../../transport/bridge/slot-link.ts';
import type { SlotState, VccClass } from '../../core/bridge-protocol/verbs.ts';
import type { InputRole } from '../jig/io-plan.ts';
import type { ProbeNote, ProbeProblem } from './errors.ts';

export interface ProbeReport {
  station: string;
  kind: string;
  /** The config file. */
  file: string;
  /** No problem found: everything the config names answered. */
  ok: boolean;
  /** Whether cards were read (--cards). */
  cards: boolean;
  /** What the config asks of every slot, for comparison with what the bridges can do. */
  loading: { vcc: VccClass; clockHz: number; pps: boolean };
  bridges: BridgeReport[];
  /** Absent when the config has no board. */
  jig?: JigReport;
  problems: ProbeProblem[];
  notes: ProbeNote[];
}

export interface BridgeInfoSummary {
  protocol: number;
  firmware: string;
  slots: number;
  /** Supply classes, e.g. "ABC". */
  classes: string;
  /** TA1-style Fi/Di bytes the bridge UART runs, hex. */
  ta1: string[];
  clock: { minHz: number; maxHz: number; defaultHz: number };
  /** The bridge runs whole APDUs (GET RESPONSE at the bridge: one host round trip per command). */
  apdu: boolean;
}

export interface BridgeReport {
  id: string;
  /** Path as the config names it. */
  port: string;
  /** Where a symlinked port leads. */
  device?: string;
  baudRate: number;
  answered: boolean;
  info?: BridgeInfoSummary;
  slots: SlotReport[];
}

export interface SlotReport {
  id: string;
  channel: number;
  enabled: boolean;
  /** Bridge STATUS; 'no-channel' when the bridge lacks the channel, absent when not asked. */
  state?: SlotState | 'no-channel';
  vcc?: VccClass | 'OFF';
  card?: CardReport;
}

export interface CardReport {
  atr: string;
  /** Fi/Di the card proposes in its ATR (TA1, hex) and what runs after negotiation. */
  atrTa1: string;
  protocols: number[];
  ta1: string;
  fi: number;
  di: number;
  clockHz: number;
  negotiation: Negotiation;
  eid?: string;
  eidValid?: boolean;
  euiccInfo2?: EuiccInfoSummary;
  factory?: { fpaServices: 'open' | 'closed'; oneTimeKeys: { unused: number; consumed: number } };
  /** --cards with a store: could the station load this chip? Absent when nothing was checked. */
  station?: CardStationCheck;
}

/** The chip against the station's store, as the unit runner would see it (store opened read-only). */
export interface CardStationCheck {
  /**
   * CERT.EUICC looked up by EID and chain-checked (EUM, CI): 'ok', 'unknown' (EID in no imported
   * eUICC data) or 'invalid'. Absent when no eUICC data is imported.
   */
  euiccData?: { state: 'ok' | 'unknown' | 'invalid'; source?: string; reason?: string };
  /** Absent when no batch is imported, or the chip's keys were not read or its FPA services are closed. */
  bpps?: {
    /** BPPs bound to this EID, in any state. */
    bound: number;
    /** Bound BPPs per state name (available, installed, ...). */
    states: Record<string, number>;
    /** The chip's unused one-time keys. */
    unusedKeys: number;
    /** Loadable now: a loadable state and bound to one of the unused keys. */
    loadable: number;
    /** Of those, from a batch whose CI the chip lists in EUICCInfo2; absent when EUICCInfo2 was not read. */
    trusted?: number;
    /** Batches of the BPPs the station would choose from (trusted ones first if any), in store order. */
    batches: string[];
  };
}

export interface EuiccInfoSummary {
  svn: string;
  firmware: string;
  profileVersion: string;
  /** CI key ids (subject key identifiers, hex) the chip verifies with: the CIs it trusts. */
  ciKeysForVerification: string[];
  ciKeysForSigning: string[];
  freeNvm?: number;
  freeRam?: number;
}

export interface JigReport {
  port: string;
  device?: string;
  baudRate: number;
  answered: boolean;
  firmware?: { name: string; version: string; protocol: string };
  pins?: number;
  inputs: InputReading[];
  /** Output pins checked against the board's capabilities (never driven). */
  outputsChecked: number;
}

export interface InputReading {
  role: InputRole;
  slot?: string;
  /** "e-stop", "guard (lid)", "presence A1". */
  name: string;
  pin: string;
  /** Raw level read, absent when the board did not report it. */
  level?: 0 | 1;
  /** The named condition holds (pressed, open, present...). */
  active?: boolean;
  /** In words: "released", "open", "present", "unknown". */
  state: string;
}
