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
