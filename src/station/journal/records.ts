/**
 * What the station journals, record by record. Every unit attempt has an id; the records of
 * one attempt, read in order, say how far it got. The three irreversible steps are bracketed:
 *
 *   bpp.chosen      before PrepareFactoryLoad: this BPP is now "in flight" for this EID
 *   bf23.sending    before the BF23 call: from here the one-time key may be consumed
 *   pir.received    the chip's signed answer, kept verbatim for the Profile Loading Report
 *
 * A process killed anywhere leaves, for each attempt, the last of these it reached; restart
 * reconciliation (orchestrator) and `ifpp report` work from that alone.
 */

export type UnitStage = 'connect' | 'activate' | 'identify' | 'choose' | 'prepare' | 'load' | 'verify' | 'post-check' | 'finish';

export type UnitOutcomeCode =
  | 'installed' // PIR success, signature and transactionId verified
  | 'failed-key-burnt' // failed after BF23 was sent (PIR error, or no answer): key consumed, BPP dead
  | 'failed-before-secure-channel' // failed before BF23 went out: key and BPP still good
  | 'no-bpp' // no loadable BPP for this chip's EID and unused keys
  | 'unreachable' // no ATR / no EID: the unit could not be identified
  | 'interrupted' // e-stop, guard, operator abort or shutdown before the result
  | 'unknown' // killed after BF23 and the chip could not be asked since
  | 'skipped' // eidPolicy.unknownEid "skip": a chip not for this station, left untouched (not a failure)
  | 'already-provisioned'; // the chip already holds a profile of ours (store or chip says so): nothing loaded, no key used

export interface UnitStartRecord {
  type: 'unit.start';
  unit: string;
  slot: string;
  attempt: number;
}

export interface UnitIdentifiedRecord {
  type: 'unit.identified';
  unit: string;
  slot: string;
  eid: string;
  unusedKeys: number;
}

export interface BppChosenRecord {
  type: 'bpp.chosen';
  unit: string;
  slot: string;
  eid: string;
  batchId: string;
  position: number;
  transactionId: string;
  otpk: string;
  iccid?: string;
}

export interface Bf23SendingRecord {
  type: 'bf23.sending';
  unit: string;
  batchId: string;
  position: number;
  transactionId: string;
}

/** A PIR and what its check found: in `pir.received` and `unit.recovered`. */
export interface PirFields {
  /** The BF37 (hex) as the chip gave it: eUICC-signed, forwarded in the report. */
  pir: string;
  verified: boolean;
  verifyCode?: string;
  installed: boolean;
  /** For an error result: SGP.22 bppCommandId / errorReason names. */
  bppCommandId?: string;
  errorReason?: string;
}

export interface PirReceivedRecord extends PirFields {
  type: 'pir.received';
  unit: string;
  batchId: string;
  position: number;
  eid: string;
  transactionId: string;
}

export interface UnitEndRecord {
  type: 'unit.end';
  unit: string;
  slot: string;
  eid?: string;
  batchId?: string;
  position?: number;
  transactionId?: string;
  outcome: UnitOutcomeCode;
  stage?: UnitStage;
  code?: string;
  reason?: string;
  millis: number;
  /**
   * For an installed unit: whether it was finished (unused keys deleted, FPA services closed;
   * see unit.finished). Absent when finishing is turned off in the config.
   */
  finished?: boolean;
  /** Set (true) when finishing was tried and failed: the profile is installed, the chip not finished. */
  finishFailed?: boolean;
}

/**
 * The finish stage of an installed unit (SGP.41 DMF03/EUICCF03, GENS13): what was asked and
 * what the chip did. Written after the chip answered, before unit.end.
 */
export interface UnitFinishedRecord {
  type: 'unit.finished';
  unit: string;
  slot: string;
  eid: string;
  deleteUnusedKeys: boolean;
  closeFpaServices: boolean;
  ok: boolean;
  keysDeleted?: number;
  fpaClosed?: boolean;
  code?: string;
  reason?: string;
}

/**
 * Written on restart for an attempt that had no unit.end: how it was settled. When the chip
 * was asked later and still held the signed result of that load in its notification list,
 * the PIR comes with it, checked as a live one (`recovered`: read back from the chip, not
 * received live; see orchestrator/recover-pir.ts).
 */
export interface UnitReconciledRecord {
  type: 'unit.reconciled';
  unit: string;
  eid?: string;
  batchId?: string;
  position?: number;
  transactionId?: string;
  outcome: UnitOutcomeCode;
  how: string;
  /** The BF37 read back from the chip's notification list (hex), exactly as the chip gave it. */
  pir?: string;
  verified?: boolean;
  verifyCode?: string;
  installed?: boolean;
  bppCommandId?: string;
  errorReason?: string;
  /** Set (true) with `pir`: the PIR was recovered from the chip after a stop. */
  recovered?: boolean;
}

/**
 * A chip seen here proved, with the signed result still in its notification list, how an
 * attempt this journal does not hold ended: another station's on a line (killed after BF23,
 * the chip then moved here). `unit` is that attempt (its station in `station`); `slot` is where
 * the chip was seen. Checked as a live PIR; the line report settles that attempt with it
 * (report/accounting.ts), and an installed one is settled installed in the shared inventory.
 * Its `pir` is read back from the chip's notification list.
 */
export interface UnitRecoveredRecord extends PirFields {
  type: 'unit.recovered';
  unit: string;
  station?: string;
  slot: string;
  eid: string;
  batchId: string;
  position: number;
  transactionId: string;
  outcome: UnitOutcomeCode;
  how: string;
}

export interface StationRecord {
  type: 'station.start' | 'station.stop';
  station: string;
  config: string;
  reason?: string;
}

/** `ifpp bench reprovision`: the attempt `unit` was a repair at a bench reader. */
export interface BenchRepairRecord {
  type: 'bench.repair';
  unit: string;
  eid?: string;
  reader: string;
  outcome: UnitOutcomeCode;
}

/** A slot's contact-cycle counter was reset (`ifpp slots reset-cycles`): who, when, and what it cleared. */
export interface SlotCyclesResetRecord {
  type: 'slot.cycles-reset';
  /** The reset's id in the cycle ledger (journaled once). */
  resetId: string;
  slot: string;
  by: string;
  /** ISO time the reset was made (the record's own `at` is when the station journaled it). */
  resetAt: string;
  cycles: number;
  note?: string;
}

export type StationJournalRecord =
  | BenchRepairRecord
  | SlotCyclesResetRecord
  | UnitStartRecord
  | UnitIdentifiedRecord
  | BppChosenRecord
  | Bf23SendingRecord
  | PirReceivedRecord
  | UnitEndRecord
  | UnitFinishedRecord
  | UnitReconciledRecord
  | UnitRecoveredRecord
  | StationRecord;
