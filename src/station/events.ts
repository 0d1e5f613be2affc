/**
 * The station's typed event stream: everything that happens, in one union. The UI and the
 * ndjson writer (`--events`) consume it; station logic never depends on them. Reports read the
 * journal, not these events.
 */

export type SlotState =
  | 'idle'
  | 'present'
  | 'powered'
  | 'atr'
  | 'identified'
  | 'loading'
  | 'verifying'
  | 'pass'
  | 'fail'
  | 'interrupted'
  /** A chip not for this station (eidPolicy.unknownEid "skip"): read, left untouched, not a failure. */
  | 'skipped';

export const SLOT_STATES: readonly SlotState[] = ['idle', 'present', 'powered', 'atr', 'identified', 'loading', 'verifying', 'pass', 'fail', 'interrupted', 'skipped'];

/** States in which a load may be in flight (quitting must wait or force). */
export const BUSY_STATES: ReadonlySet<SlotState> = new Set(['powered', 'atr', 'identified', 'loading', 'verifying']);

export type StationPhase = 'starting' | 'waiting-for-panel' | 'waiting-for-start' | 'clamping' | 'running' | 'paused' | 'releasing' | 'aborted' | 'stopping' | 'stopped';

import type { SlotFigures } from './metrics/slot-stats.ts';
import type { WearStatus } from './metrics/wear-policy.ts';

interface Base {
  /** ms since the Unix epoch. */
  t: number;
}

export type StationEvent =
  | (Base & { type: 'station.started'; station: string; config: string; kind: string; slots: SlotInfo[] })
  | (Base & { type: 'station.phase'; phase: StationPhase; reason?: string })
  | (Base & { type: 'station.prompt'; message: string | null })
  | (Base & { type: 'station.warning'; code: string; message: string })
  | (Base & { type: 'station.stopped'; reason: string })
  | (Base & { type: 'store.stock'; batches: { batchId: string; available: number; total: number }[] })
  | (Base & { type: 'bridge.connected'; bridge: string; port: string; firmware?: string })
  | (Base & { type: 'bridge.disconnected'; bridge: string; reason: string })
  | (Base & { type: 'slot.state'; slot: string; state: SlotState; reason?: string; code?: string })
  | (Base & { type: 'slot.identified'; slot: string; eid: string; unusedKeys: number })
  | (Base & { type: 'slot.bpp-chosen'; slot: string; eid: string; batchId: string; transactionId: string; iccid?: string; attempt: number })
  | (Base & { type: 'slot.progress'; slot: string; bytesSent: number; bytesTotal: number; segmentsSent: number; segmentsTotal: number })
  | (Base & { type: 'slot.apdu'; slot: string; summary: string; sw: string; micros: number })
  | (Base & { type: 'slot.result'; slot: string; eid?: string; iccid?: string; transactionId?: string; outcome: UnitOutcome; code?: string; reason?: string; millis: number; attempt: number })
  | (Base & { type: 'unit.done'; slot: string; eid?: string; outcome: UnitOutcome; passFirstTime: boolean })
  /** Contact wear crossed a threshold (warning, out of service) or was reset (ok). */
  | (Base & { type: 'slot.service'; slot: string; status: WearStatus; cycles: number; limit: number; message: string; resetBy?: string })
  /** A slot's figures after each unit (run and journal history), its wear and recent-yield flag. */
  | (Base & SlotStatsFields & { type: 'slot.stats' })
  /** Every metrics.summaryEverySeconds, and once more (final) when the station stops. */
  | (Base & StationSummaryFields & { type: 'station.summary' });

export interface SlotStatsFields {
  slot: string;
  bridge: string;
  /** Since this station process started. */
  run: SlotFigures;
  /** Over the whole journal, this run included. */
  history: SlotFigures;
  cycles: number;
  cycleLimit: number;
  service: WearStatus;
  /** Recent first-pass yield (0..1, see metrics/recent-yield.ts), null before any judged unit. */
  recentYield: number | null;
  /** Set when the recent-yield rule flags the slot: why, in words. */
  yieldFlag?: string;
}

export interface SummarySlotRow {
  slot: string;
  bridge: string;
  units: number;
  fpy: number | null;
  historyUnits: number;
  historyFpy: number | null;
  cycles: number;
  cycleLimit: number;
  service: WearStatus;
  yieldFlag?: string;
}

export interface StationSummaryFields {
  final: boolean;
  /** Configured period, s (0: only the final summary). */
  periodSeconds: number;
  uptimeMs: number;
  /** Units done in this run, any outcome. */
  units: number;
  /** Units per hour since the start, and over the last period; null when too short to say. */
  ratePerHour: number | null;
  lastPeriod: { units: number; ratePerHour: number | null };
  fpy: number | null;
  byOutcome: Partial<Record<UnitOutcome, number>>;
  stock: { batchId: string; available: number; total: number }[];
  outOfService: string[];
  flagged: string[];
  slots: SummarySlotRow[];
}

export type UnitOutcome = 'installed' | 'failed-key-burnt' | 'failed-before-secure-channel' | 'no-bpp' | 'unreachable' | 'interrupted' | 'unknown' | 'skipped' | 'already-provisioned';

export interface SlotInfo {
  id: string;
  row: number;
  col: number;
  /** What carries the slot: a bridge id, or a reader id (then `reader` is the reader's configured name). */
  bridge: string;
  channel: number;
  /** A PC/SC reader slot: the reader's name or pattern from the config. */
  reader?: string;
}

export type EventOf<T extends StationEvent['type']> = Extract<StationEvent, { type: T }>;

export type EventListener = (e: StationEvent) => void;

/** A minimal synchronous bus: listeners run in order; a throwing listener cannot stop the station. */
export class EventBus {
  private listeners: EventListener[] = [];
  private errors = 0;

  on(l: EventListener): () => void {
    this.listeners.push(l);
    return () => {
      this.listeners = this.listeners.filter((x) => x !== l);
    };
  }

  emit(e: StationEvent): void {
    for (const l of this.listeners) {
      try {
        l(e);
      } catch {
        this.errors++;
      }
    }
  }

  /** Listener failures swallowed so far (surfaced in diagnostics). */
  get listenerErrors(): number {
    return this.errors;
  }
}
