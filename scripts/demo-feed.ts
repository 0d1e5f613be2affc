/**
 * A synthetic, seeded event stream for the UI demo and the render benchmark: N slots cycling
 * through present → powered → ATR → identified → loading (progress at 10 Hz) → verifying →
 * pass/fail, with stock counting down. It imitates the station's output only; it knows nothing
 * of cards or BPPs and is not used by the station.
 */
import { mulberry32 } from '../src/sim/seeded-random.ts';
import type { SlotInfo, SlotState, StationEvent } from '../src/station/events.ts';

export interface DemoFeedOptions {
  slots: number;
  /** Jig columns; default the squarest layout (8 -> 4, 16 -> 4, 32 -> 8, 64 -> 8). */
  cols?: number;
  seed?: number;
  /** Time of the first event (ms since the epoch). */
  t0?: number;
  /** Duration of the loading phase. Default 8 s. */
  loadMs?: number;
  /** Share of units that fail. Default 0.05. */
  failRate?: number;
  /** BPPs in stock at the start. Default 500. */
  stock?: number;
}

interface SlotSim {
  info: SlotInfo;
  state: SlotState;
  nextAt: number;
  eid: string;
  iccid: string;
  attempt: number;
  sent: number;
  total: number;
  segments: number;
  willFail: boolean;
}

const PROGRESS_MS = 100;

export class DemoFeed {
  readonly t0: number;
  readonly slotInfos: SlotInfo[];
  private readonly sims: SlotSim[];
  private readonly rnd: () => number;
  private readonly loadMs: number;
  private readonly failRate: number;
  private stock: number;
  private readonly stockTotal: number;
  private serial = 0;

  constructor(opts: DemoFeedOptions) {
    this.t0 = opts.t0 ?? Date.UTC(2025, 0, 6, 8, 0, 0);
    this.rnd = mulberry32(opts.seed ?? 1);
    this.loadMs = opts.loadMs ?? 8000;
    this.failRate = opts.failRate ?? 0.05;
    this.stock = opts.stock ?? 500;
    this.stockTotal = this.stock;
    const cols = opts.cols ?? Math.max(1, Math.min(8, Math.ceil(Math.sqrt(opts.slots))));
    this.slotInfos = Array.from({ length: opts.slots }, (_, i) => {
      const row = Math.floor(i / cols) + 1;
      const col = (i % cols) + 1;
      return { id: `${rowName(row)}${col}`, row, col, bridge: `b${Math.floor(i / 8)}`, channel: i % 8 };
    });
    this.sims = this.slotInfos.map((info) => ({
      info,
      state: 'idle' as SlotState,
      nextAt: this.t0 + 500 + Math.floor(this.rnd() * 2000),
      eid: '',
      iccid: '',
      attempt: 0,
      sent: 0,
      total: 0,
      segments: 0,
      willFail: false,
    }));
  }

  /** The events a station emits when it comes up. */
  start(): StationEvent[] {
    const t = this.t0;
    const bridges = [...new Set(this.slotInfos.map((s) => s.bridge))];
    return [
      { type: 'station.started', t, station: 'demo-station', config: `demo-${this.slotInfos.length}.json`, kind: 'panel-jig', slots: this.slotInfos },
      ...bridges.map((b, i): StationEvent => ({ type: 'bridge.connected', t, bridge: b, port: `/dev/ttyACM${i}`, firmware: '1.0.0' })),
      this.stockEvent(t),
      { type: 'station.phase', t, phase: 'running' },
    ];
  }

  /** Everything that happens up to and including `toT`, in time order. */
  advance(toT: number): StationEvent[] {
    const out: StationEvent[] = [];
    for (;;) {
      let next: SlotSim | null = null;
      for (const s of this.sims) if (s.nextAt <= toT && (!next || s.nextAt < next.nextAt)) next = s;
      if (!next) break;
      this.step(next, out);
    }
    return out;
  }

  private step(s: SlotSim, out: StationEvent[]): void {
    const t = s.nextAt;
    const slot = s.info.id;
    const go = (state: SlotState, after: number, extra: Partial<{ reason: string; code: string }> = {}) => {
      s.state = state;
      s.nextAt = t + after;
      out.push({ type: 'slot.state', t, slot, state, ...extra });
    };
    switch (s.state) {
      case 'idle':
        this.serial++;
        s.eid = `8904903200${String(1_000_000_000 + this.serial * 7919).padStart(22, '0')}`.slice(0, 32);
        s.iccid = `89440${String(10_000_000_000_000 + this.serial).padStart(14, '0')}`;
        s.attempt = 1;
        s.willFail = this.rnd() < this.failRate;
        return go('present', 300);
      case 'present':
        return go('powered', 200);
      case 'powered':
        return go('atr', 200);
      case 'atr':
        go('identified', 400);
        out.push({ type: 'slot.identified', t, slot, eid: s.eid, unusedKeys: 3 + Math.floor(this.rnd() * 5) });
        out.push({ type: 'slot.bpp-chosen', t, slot, eid: s.eid, batchId: 'B-2025-01', transactionId: `tx${this.serial}`, iccid: s.iccid, attempt: s.attempt });
        return;
      case 'identified':
        s.total = 20_000 + Math.floor(this.rnd() * 30_000);
        s.segments = Math.ceil(s.total / 255);
        s.sent = 0;
        return go('loading', PROGRESS_MS);
      case 'loading': {
        const perStep = Math.ceil(s.total / (this.loadMs / PROGRESS_MS));
        s.sent = Math.min(s.total, s.sent + perStep);
        const seg = Math.ceil(s.sent / 255);
        out.push({ type: 'slot.progress', t, slot, bytesSent: s.sent, bytesTotal: s.total, segmentsSent: seg, segmentsTotal: s.segments });
        out.push({ type: 'slot.apdu', t, slot, summary: `STORE DATA seg ${seg}/${s.segments}`, sw: '9000', micros: 20_000 + Math.floor(this.rnd() * 5000) });
        if (s.willFail && s.sent > s.total / 2) {
          out.push({ type: 'slot.result', t, slot, eid: s.eid, outcome: 'failed-key-burnt', code: 'EUICC_6A80', reason: 'card rejected segment: incorrect data', millis: 5000, attempt: s.attempt });
          go('fail', 1500, { reason: 'card rejected segment: incorrect data', code: 'EUICC_6A80' });
          out.push({ type: 'unit.done', t, slot, eid: s.eid, outcome: 'failed-key-burnt', passFirstTime: false });
          return;
        }
        if (s.sent >= s.total) return go('verifying', 500);
        s.nextAt = t + PROGRESS_MS;
        return;
      }
      case 'verifying':
        this.stock = Math.max(0, this.stock - 1);
        out.push({ type: 'slot.result', t, slot, eid: s.eid, iccid: s.iccid, transactionId: `tx${this.serial}`, outcome: 'installed', millis: this.loadMs + 1500, attempt: s.attempt });
        go('pass', 1500);
        out.push({ type: 'unit.done', t, slot, eid: s.eid, outcome: 'installed', passFirstTime: true });
        out.push(this.stockEvent(t));
        return;
      default:
        return go('idle', 300 + Math.floor(this.rnd() * 1500));
    }
  }

  private stockEvent(t: number): StationEvent {
    return { type: 'store.stock', t, batches: [{ batchId: 'B-2025-01', available: this.stock, total: this.stockTotal }] };
  }
}

function rowName(row: number): string {
  let n = row;
  let out = '';
  while (n > 0) {
    out = String.fromCharCode(65 + ((n - 1) % 26)) + out;
    n = Math.floor((n - 1) / 26);
  }
  return out;
}

