/**
 * The station's typed event stream: everything that happens, in one union. The UI, the
 * ndjson writer (`--events`) and the reports consume it; station logic never depends on them.
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
  | (Base & { type: 'unit.done'; slot: string; eid?: string; outcome: UnitOutcome; passFirstTime: boolean });

export type UnitOutcome = 'installed' | 'failed-key-burnt' | 'failed-before-secure-channel' | 'no-bpp' | 'unreachable' | 'interrupted' | 'unknown' | 'skipped';

export interface SlotInfo {
  id: string;
  row: number;
  col: number;
  bridge: string;
  channel: number;
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
