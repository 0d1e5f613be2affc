/**
 * Unit accounting: from the station journal to one account per unit attempt with its final
 * status. Both report writers and the crash (kill -9) tests use it, so "every unit exactly
 * once" is decided in one place:
 *
 *   - an attempt is keyed by its `unit` id and appears once, in journal order of its first record;
 *   - its status is the outcome of its first settlement (unit.end, or unit.reconciled written
 *     at a restart), except that a reconciled "unknown" is replaced by a later unit.reconciled
 *     (the chip seen again); an attempt with neither is `open` (in flight when the station died);
 *   - anything the journal should never hold (a second settlement, a reused unit id, records
 *     of a unit that never started) is listed as an anomaly instead of being silently merged.
 *
 * Memory grows with the number of units, not of records: feed records one by one to
 * UnitAccountant when streaming a journal.
 */
import type { JournalRecord } from '../journal/journal.ts';
import type { UnitOutcomeCode, UnitStage } from '../journal/records.ts';

export type UnitStatus = UnitOutcomeCode | 'open';

export const OUTCOME_CODES: readonly UnitOutcomeCode[] = [
  'installed',
  'failed-key-burnt',
  'failed-before-secure-channel',
  'no-bpp',
  'unreachable',
  'interrupted',
  'unknown',
  'skipped',
  'already-provisioned',
];
export const UNIT_STATUSES: readonly UnitStatus[] = [...OUTCOME_CODES, 'open'];

/** The furthest bracketing record journaled for the attempt. */
export type LastStep = 'started' | 'identified' | 'bpp-chosen' | 'bf23-sending' | 'pir-received';
const STEP_ORDER: readonly LastStep[] = ['started', 'identified', 'bpp-chosen', 'bf23-sending', 'pir-received'];

/** Where an attempt was working when its last step was journaled (for open/reconciled ones). */
const STEP_STAGE: Record<LastStep, UnitStage> = {
  started: 'identify',
  identified: 'choose',
  'bpp-chosen': 'prepare',
  'bf23-sending': 'load',
  'pir-received': 'verify',
};

export interface PirEvidence {
  /** The BF37 exactly as journaled (hex). */
  hex: string;
  verified: boolean;
  verifyCode?: string;
  installed: boolean;
  bppCommandId?: string;
  errorReason?: string;
  at: string;
  seq: number;
  /** Read back from the chip's notification list after a stop (unit.reconciled), not received live. */
  recovered?: boolean;
}

export interface UnitAccount {
  unit: string;
  slot?: string;
  attempt?: number;
  eid?: string;
  batchId?: string;
  position?: number;
  transactionId?: string;
  iccid?: string;
  /** One-time public key (hex) the chosen BPP is bound to. */
  otpk?: string;
  lastStep: LastStep;
  /** bf23.sending was journaled: from then on the one-time key may be consumed. */
  bf23Sent: boolean;
  pir?: PirEvidence;
  status: UnitStatus;
  settledBy: 'end' | 'reconciled' | 'open';
  stage?: UnitStage;
  code?: string;
  reason?: string;
  /** unit.reconciled's `how`. */
  reconciledHow?: string;
  /** Installed attempts: the finish stage's verdict (unit.finished / unit.end); absent when not tried. */
  finished?: boolean;
  /** Why finishing failed. */
  finishCode?: string;
  /** A repair at a bench reader (`ifpp bench reprovision`, journal record bench.repair). */
  repair?: boolean;
  /** Time of unit.start (absent when the journal lacks it: see anomalies). */
  started?: string;
  /** Time of the settling record. */
  ended?: string;
  millis?: number;
  firstSeq: number;
  lastSeq: number;
  firstAt: string;
  lastAt: string;
}

export interface DuplicatePush {
  batchId: string;
  position: number;
  /** Every bf23.sending for this BPP, in journal order. */
  sends: Array<{ unit: string; seq: number }>;
}

export interface JournalAnomaly {
  seq: number;
  unit?: string;
  code: 'UNIT_ID_REUSED' | 'NO_UNIT_START' | 'SETTLED_TWICE' | 'RECORD_AFTER_SETTLEMENT' | 'SEVERAL_BPPS' | 'SEVERAL_PIRS' | 'UNKNOWN_OUTCOME';
  message: string;
}

export interface Accounting {
  /** One account per unit attempt, in journal order. */
  units: UnitAccount[];
  byOutcome: Record<UnitStatus, number>;
  /** Attempts with neither unit.end nor unit.reconciled. */
  open: UnitAccount[];
  /** BPPs (batchId, position) with more than one bf23.sending: a BPP pushed twice. Must be empty. */
  duplicatesPushed: DuplicatePush[];
  anomalies: JournalAnomaly[];
  /** Records read, and the last seq seen. */
  records: number;
  lastSeq: number | undefined;
  /** Station names from station.start records, first seen first. */
  stations: string[];
}

/** The stage an attempt failed in, or for an unsettled one the stage it had reached. */
export function stageOf(u: UnitAccount): UnitStage {
  return u.stage ?? STEP_STAGE[u.lastStep];
}

/** The code of a prepare the chip refused because the key is already spent (unit/load.ts). */
export const KEY_ALREADY_USED_CODE = 'PREPARE_KEYALREADYUSED';

/**
 * Whether the chip's one-time key, and so this BPP, is used up ('unknown' when it cannot be
 * told). It says what the outcome's reason says: a PIR means BF23 was processed; after
 * bf23.sending without a PIR an interrupted, unknown or open attempt may or may not have
 * reached the chip ("may have been used"); a chip that answered keyAlreadyUsed has a spent key.
 */
export function keyBurnt(u: UnitAccount): boolean | 'unknown' {
  switch (u.status) {
    case 'installed':
    case 'failed-key-burnt':
      return true;
    case 'failed-before-secure-channel':
      return u.code === KEY_ALREADY_USED_CODE;
    case 'no-bpp':
    case 'unreachable':
    case 'skipped':
    case 'already-provisioned':
      return false;
    default:
      // interrupted, unknown, open. A signed result means the chip processed BF23.
      if (u.pir) return true;
      // bf23.sending is journaled before BF23 goes out: without it the key was never offered.
      return u.bf23Sent ? 'unknown' : false;
  }
}

/**
 * What became of the BPP an attempt chose (undefined when it chose none): `loaded` (its profile
 * is installed), `spent` (its one-time key was used without a profile installed: the BPP can
 * never load), `unused` (never sent, or refused before the key was touched: loadable again),
 * `unknown` (sent, with no answer to tell: settled when the chip is seen again).
 */
export type BppFate = 'loaded' | 'spent' | 'unused' | 'unknown';

export function bppFate(u: UnitAccount): BppFate | undefined {
  if (u.batchId === undefined || u.position === undefined) return undefined;
  if (u.status === 'installed') return 'loaded';
  const k = keyBurnt(u);
  return k === true ? 'spent' : k === false ? 'unused' : 'unknown';
}

export function emptyCounts(): Record<UnitStatus, number> {
  return Object.fromEntries(UNIT_STATUSES.map((s) => [s, 0])) as Record<UnitStatus, number>;
}

const str = (r: JournalRecord, k: string): string | undefined => (typeof r[k] === 'string' ? (r[k] as string) : undefined);
const num = (r: JournalRecord, k: string): number | undefined => (typeof r[k] === 'number' ? (r[k] as number) : undefined);

/** The PIR fields of pir.received (or of unit.reconciled with a recovered PIR). */
function pirEvidence(r: JournalRecord): PirEvidence {
  const pir: PirEvidence = { hex: str(r, 'pir') ?? '', verified: r.verified === true, installed: r.installed === true, at: r.at, seq: r.seq };
  const verifyCode = str(r, 'verifyCode');
  const bppCommandId = str(r, 'bppCommandId');
  const errorReason = str(r, 'errorReason');
  if (verifyCode !== undefined) pir.verifyCode = verifyCode;
  if (bppCommandId !== undefined) pir.bppCommandId = bppCommandId;
  if (errorReason !== undefined) pir.errorReason = errorReason;
  return pir;
}

export class UnitAccountant {
  private readonly units: UnitAccount[] = [];
  private readonly current = new Map<string, UnitAccount>();
  private readonly pushes = new Map<string, DuplicatePush>();
  private readonly anomalies: JournalAnomaly[] = [];
  private readonly stations: string[] = [];
  /** unit.recovered / unit.finished for attempts not (yet) read: see applyLater. */
  private readonly later: JournalRecord[] = [];
  private records = 0;
  private lastSeq: number | undefined;

  add(r: JournalRecord): void {
    this.records++;
    if (typeof r.seq === 'number') this.lastSeq = r.seq;
    if (r.type === 'station.start') {
      const name = str(r, 'station');
      if (name !== undefined && !this.stations.includes(name)) this.stations.push(name);
      return;
    }
    if (typeof r.type !== 'string') return;
    if (r.type === 'unit.finished') {
      const u = this.current.get(str(r, 'unit') ?? '');
      if (u) this.finished(u, r);
      // Another station's unit (finished where its chip was recovered): applied once every journal is read.
      else this.later.push(r);
      return;
    }
    if (r.type === 'unit.recovered') {
      // Names an attempt of another station's journal, which a line report may read after this one.
      this.later.push(r);
      return;
    }
    if (r.type === 'bench.repair') {
      // Follows the attempts it marks: the unit and its retries (unit#2, …).
      const id = str(r, 'unit');
      if (id !== undefined) for (const u of this.units) if (u.unit === id || u.unit.startsWith(`${id}#`)) u.repair = true;
      return;
    }
    if (!r.type.startsWith('unit.') && r.type !== 'bpp.chosen' && r.type !== 'bf23.sending' && r.type !== 'pir.received') return;
    const id = str(r, 'unit');
    if (id === undefined) return;

    if (r.type === 'unit.start') {
      if (this.current.has(id)) this.anomaly(r, id, 'UNIT_ID_REUSED', `unit id ${id} started again; counted as a separate attempt`);
      const u = this.open(r, id);
      u.started = r.at;
      this.set(u, 'slot', str(r, 'slot'));
      this.set(u, 'attempt', num(r, 'attempt'));
      return;
    }

    let u = this.current.get(id);
    if (!u) {
      this.anomaly(r, id, 'NO_UNIT_START', `${r.type} for unit ${id}, which has no unit.start in the journal`);
      u = this.open(r, id);
    }
    u.lastSeq = r.seq;
    u.lastAt = r.at;
    const settling = r.type === 'unit.end' || r.type === 'unit.reconciled';
    if (u.settledBy !== 'open' && !settling) {
      this.anomaly(r, id, 'RECORD_AFTER_SETTLEMENT', `${r.type} for unit ${id} after it was settled`);
    }

    switch (r.type) {
      case 'unit.identified':
        this.reach(u, 'identified');
        this.set(u, 'slot', str(r, 'slot'));
        this.set(u, 'eid', str(r, 'eid'));
        break;
      case 'bpp.chosen': {
        const batchId = str(r, 'batchId');
        const position = num(r, 'position');
        if (u.batchId !== undefined && (u.batchId !== batchId || u.position !== position)) {
          this.anomaly(r, id, 'SEVERAL_BPPS', `unit ${id} chose ${batchId}#${position} after ${u.batchId}#${u.position}; the report keeps the last`);
        }
        this.reach(u, 'bpp-chosen');
        this.set(u, 'slot', str(r, 'slot'));
        this.set(u, 'eid', str(r, 'eid'));
        this.set(u, 'batchId', batchId);
        this.set(u, 'position', position);
        this.set(u, 'transactionId', str(r, 'transactionId'));
        this.set(u, 'iccid', str(r, 'iccid'));
        this.set(u, 'otpk', str(r, 'otpk'));
        break;
      }
      case 'bf23.sending': {
        this.reach(u, 'bf23-sending');
        u.bf23Sent = true;
        const batchId = str(r, 'batchId') ?? u.batchId;
        const position = num(r, 'position') ?? u.position;
        this.set(u, 'batchId', batchId);
        this.set(u, 'position', position);
        this.set(u, 'transactionId', str(r, 'transactionId'));
        if (batchId !== undefined && position !== undefined) {
          const key = `${batchId}\u0000${position}`;
          let p = this.pushes.get(key);
          if (!p) this.pushes.set(key, (p = { batchId, position, sends: [] }));
          p.sends.push({ unit: id, seq: r.seq });
        }
        break;
      }
      case 'pir.received': {
        if (u.pir) this.anomaly(r, id, 'SEVERAL_PIRS', `unit ${id} received a second PIR; the report keeps the last`);
        this.reach(u, 'pir-received');
        this.set(u, 'eid', str(r, 'eid'));
        this.set(u, 'batchId', str(r, 'batchId'));
        this.set(u, 'position', num(r, 'position'));
        this.set(u, 'transactionId', str(r, 'transactionId'));
        u.pir = pirEvidence(r);
        break;
      }
      case 'unit.end':
      case 'unit.reconciled':
        this.settle(u, r);
        break;
      default:
        break; // a unit.* record type this version does not know: it changes nothing
    }
  }

  private settle(u: UnitAccount, r: JournalRecord): void {
    const by = r.type === 'unit.end' ? 'end' : 'reconciled';
    // A restart that could not ask the chip settles it as "unknown"; when the chip is seen
    // again a second unit.reconciled gives the real outcome. Anything else settles once.
    const refines = by === 'reconciled' && u.settledBy === 'reconciled' && u.status === 'unknown';
    if (u.settledBy !== 'open' && !refines) {
      this.anomaly(r, u.unit, 'SETTLED_TWICE', `unit ${u.unit} settled again by ${r.type} (first by ${u.settledBy === 'end' ? 'unit.end' : 'unit.reconciled'}); the first settlement counts`);
      return;
    }
    const outcome = str(r, 'outcome');
    if (outcome !== undefined && (OUTCOME_CODES as readonly string[]).includes(outcome)) {
      u.status = outcome as UnitOutcomeCode;
    } else {
      this.anomaly(r, u.unit, 'UNKNOWN_OUTCOME', `unit ${u.unit} ended with outcome ${JSON.stringify(r.outcome)}; counted as unknown`);
      u.status = 'unknown';
    }
    u.settledBy = by;
    u.ended = r.at;
    this.set(u, 'slot', str(r, 'slot'));
    this.set(u, 'eid', str(r, 'eid'));
    this.set(u, 'batchId', str(r, 'batchId'));
    this.set(u, 'position', num(r, 'position'));
    this.set(u, 'transactionId', str(r, 'transactionId'));
    this.set(u, 'stage', str(r, 'stage') as UnitStage | undefined);
    this.set(u, 'code', str(r, 'code'));
    this.set(u, 'reason', str(r, 'reason'));
    this.set(u, 'millis', num(r, 'millis'));
    this.set(u, 'reconciledHow', str(r, 'how'));
    if (typeof r.finished === 'boolean') u.finished = r.finished;
    // A PIR recovered from the chip when it was seen again (only with a real settlement).
    if (by === 'reconciled' && typeof r.pir === 'string' && !u.pir) u.pir = { ...pirEvidence(r), recovered: true };
  }

  private open(r: JournalRecord, id: string): UnitAccount {
    const u: UnitAccount = {
      unit: id,
      lastStep: 'started',
      bf23Sent: false,
      status: 'open',
      settledBy: 'open',
      firstSeq: r.seq,
      lastSeq: r.seq,
      firstAt: r.at,
      lastAt: r.at,
    };
    this.units.push(u);
    this.current.set(id, u);
    return u;
  }

  private reach(u: UnitAccount, step: LastStep): void {
    if (STEP_ORDER.indexOf(step) > STEP_ORDER.indexOf(u.lastStep)) u.lastStep = step;
  }

  private set<K extends keyof UnitAccount>(u: UnitAccount, k: K, v: UnitAccount[K] | undefined): void {
    if (v !== undefined) u[k] = v;
  }

  private anomaly(r: JournalRecord, unit: string, code: JournalAnomaly['code'], message: string): void {
    this.anomalies.push({ seq: r.seq, unit, code, message });
  }

  private finished(u: UnitAccount, r: JournalRecord): void {
    u.finished = r.ok === true;
    const code = str(r, 'code');
    if (code !== undefined) u.finishCode = code;
  }

  /**
   * unit.recovered (and the unit.finished after it) settle an attempt from another station's
   * journal: an attempt still open, or left `unknown` by its station's restart, takes the
   * recovered outcome and PIR; one already settled otherwise is left as it is. An attempt in no
   * journal read (a single station's report) is not this report's.
   */
  private applyLater(): void {
    for (const r of this.later.splice(0)) {
      const u = this.current.get(str(r, 'unit') ?? '');
      if (!u) continue;
      if (r.type === 'unit.finished') {
        this.finished(u, r);
        continue;
      }
      if (!(u.status === 'open' || (u.status === 'unknown' && u.settledBy === 'reconciled'))) continue;
      const outcome = str(r, 'outcome');
      if (outcome === undefined || !(OUTCOME_CODES as readonly string[]).includes(outcome)) continue;
      u.status = outcome as UnitOutcomeCode;
      u.settledBy = 'reconciled';
      u.ended = r.at;
      this.set(u, 'reconciledHow', str(r, 'how'));
      if (typeof r.pir === 'string') u.pir = { ...pirEvidence(r), recovered: true };
    }
  }

  result(): Accounting {
    this.applyLater();
    const byOutcome = emptyCounts();
    for (const u of this.units) byOutcome[u.status]++;
    return {
      units: [...this.units],
      byOutcome,
      open: this.units.filter((u) => u.status === 'open'),
      duplicatesPushed: [...this.pushes.values()].filter((p) => p.sends.length > 1),
      anomalies: [...this.anomalies],
      records: this.records,
      lastSeq: this.lastSeq,
      stations: [...this.stations],
    };
  }
}

/** Accounts every unit attempt in `records` (a whole journal, in order). */
export function accountUnits(records: Iterable<JournalRecord>): Accounting {
  const a = new UnitAccountant();
  for (const r of records) a.add(r);
  return a.result();
}
