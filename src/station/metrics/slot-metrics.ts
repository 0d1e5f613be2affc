/**
 * The station's production metrics, in one object the orchestrator owns: contact-cycle counts
 * (persisted, with limits), per-slot figures for the run and the journal's history, the
 * recent-yield flag, and the periodic `station.summary`. It listens to the event stream for
 * results and speaks only through it (slot.service, slot.stats, station.summary) and the
 * journal (resets), so the UI, the NDJSON log and the Prometheus endpoint all see the same.
 */
import type { StationConfig } from '../config/schema.ts';
import { DEFAULTS } from '../config/schema.ts';
import type { EventBus, EventOf, StationEvent, SummarySlotRow, UnitOutcome } from '../events.ts';
import type { JournalRecord } from '../journal/journal.ts';
import type { SlotCyclesResetRecord } from '../journal/records.ts';
import { accountUnits } from '../report/accounting.ts';
import { RecentYield } from './recent-yield.ts';
import { SlotStatsTable, emptyFigures, isJudged, unitsFromAccounts, type UnitTally } from './slot-stats.ts';
import { WearLedger, wearPath, type ResetLine } from './wear-ledger.ts';
import { slotWear, type SlotWear, type WearStatus } from './wear-policy.ts';

/** Journal record of a cycle-counter reset (written by the station that applies it). */
export const RESET_RECORD = 'slot.cycles-reset' satisfies SlotCyclesResetRecord['type'];

/** Compact the ledger at start once it is this big (one short line per cycle). */
const COMPACT_BYTES = 4 << 20;

export interface SlotMetricsOptions {
  /** Appends a reset record to the station's journal; resolves once it is on disk. */
  journal: (type: typeof RESET_RECORD, fields: Omit<SlotCyclesResetRecord, 'type'>) => Promise<unknown>;
  now?: () => number;
  /** How often a running station looks for resets made by `ifpp slots reset-cycles`, ms. Default 2000. */
  resetPollMs?: number;
}

export class SlotMetrics {
  private readonly run = new SlotStatsTable();
  private readonly history: SlotStatsTable;
  private readonly recent: RecentYield;
  private readonly status = new Map<string, WearStatus>();
  private readonly lastResult = new Map<string, EventOf<'slot.result'>>();
  private readonly journaledResets: Set<string>;
  private readonly now: () => number;
  private readonly bridgeOf: Map<string, string>;
  private readonly byOutcome: Partial<Record<UnitOutcome, number>> = {};
  private stock: EventOf<'store.stock'>['batches'] = [];
  private startedAt: number | undefined;
  private units = 0;
  private periodStart = { t: 0, units: 0 };
  private timers: ReturnType<typeof setInterval>[] = [];
  private off: (() => void) | undefined;
  private stopped = false;

  private constructor(
    private readonly config: StationConfig,
    private readonly bus: EventBus,
    private readonly ledger: WearLedger,
    history: UnitTally[],
    journaledResets: Set<string>,
    private readonly opts: SlotMetricsOptions,
  ) {
    this.now = opts.now ?? Date.now;
    this.history = new SlotStatsTable(history);
    this.recent = new RecentYield(config.metrics?.recentYield ?? DEFAULTS.metrics.recentYield);
    for (const u of history) if (isJudged(u.outcome)) this.recent.add(u.slot, u.passFirstTime);
    this.journaledResets = journaledResets;
    this.bridgeOf = new Map(config.slots.map((s) => [s.id, s.bridge]));
    for (const s of config.slots) this.status.set(s.id, this.wear(s.id).status);
  }

  /** From the journal's records (as Journal.open read them) and the cycle ledger beside it. */
  static open(config: StationConfig, records: readonly JournalRecord[], bus: EventBus, opts: SlotMetricsOptions): SlotMetrics {
    const ledger = WearLedger.open(wearPath(config));
    if (ledger.bytes > COMPACT_BYTES) ledger.compact();
    const journaled = new Set(records.filter((r) => r.type === RESET_RECORD && typeof r.resetId === 'string').map((r) => r.resetId as string));
    return new SlotMetrics(config, bus, ledger, unitsFromAccounts(accountUnits(records).units), journaled, opts);
  }

  wear(slot: string): SlotWear {
    const cfg = this.config.slots.find((s) => s.id === slot) ?? { id: slot };
    return slotWear(this.config, cfg, this.ledger.cycles(slot));
  }

  /** Slots now out of service (their counter reached its limit). */
  outOfService(): string[] {
    return this.config.slots.filter((s) => s.enabled && this.status.get(s.id) === 'out-of-service').map((s) => s.id);
  }

  /**
   * A unit comes into contact with `slot`. Returns false, counting nothing, when the slot is
   * out of service (the caller must not run the unit); otherwise counts the cycle, announces a
   * threshold crossed, and returns true.
   */
  contact(slot: string): boolean {
    this.pollResets();
    if (this.status.get(slot) === 'out-of-service') return false;
    this.ledger.addCycle(slot, this.now());
    this.update(slot);
    return true;
  }

  /** Starts listening to results and the periodic summary (and the poll for resets). */
  async start(): Promise<void> {
    this.startedAt = this.now();
    this.periodStart = { t: this.startedAt, units: 0 };
    this.off = this.bus.on((e) => this.onEvent(e));
    // Resets made while no station ran are journaled now, by the station that applies them.
    for (const r of this.ledger.allResets()) await this.journalReset(r);
    for (const s of this.config.slots) {
      const w = this.wear(s.id);
      if (s.enabled && w.status !== 'ok') this.emitService(w);
    }
    const period = (this.config.metrics?.summaryEverySeconds ?? DEFAULTS.metrics.summaryEverySeconds) * 1000;
    if (period > 0) this.timers.push(setInterval(() => this.bus.emit(this.summary(false)), period));
    const poll = setInterval(() => this.pollResets(), this.opts.resetPollMs ?? 2000);
    poll.unref?.();
    this.timers.push(poll);
  }

  /** Stops the timers and emits the final summary (once). */
  stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    for (const t of this.timers) clearInterval(t);
    this.timers = [];
    if (this.startedAt !== undefined) this.bus.emit(this.summary(true));
    this.off?.();
  }

  /** Looks for resets appended by `ifpp slots reset-cycles`; applies and journals them. */
  pollResets(): void {
    for (const r of this.ledger.refresh()) {
      void this.journalReset(r).catch((e: unknown) =>
        this.bus.emit({ type: 'station.warning', t: this.now(), code: 'JOURNAL_WRITE_FAILED', message: `reset of slot ${r.slot} not journaled: ${(e as Error).message}` }),
      );
      this.update(r.slot, r.by);
    }
  }

  private async journalReset(r: ResetLine): Promise<void> {
    if (this.journaledResets.has(r.id)) return;
    this.journaledResets.add(r.id);
    await this.opts.journal(RESET_RECORD, { resetId: r.id, slot: r.slot, by: r.by, resetAt: r.at, cycles: r.cycles, ...(r.note ? { note: r.note } : {}) });
  }

  /** Re-evaluates a slot's wear; announces a change of status. */
  private update(slot: string, resetBy?: string): void {
    const w = this.wear(slot);
    const before = this.status.get(slot);
    this.status.set(slot, w.status);
    if (before !== w.status || resetBy !== undefined) this.emitService(w, resetBy);
  }

  private emitService(w: SlotWear, resetBy?: string): void {
    const message =
      w.status === 'out-of-service'
        ? `slot ${w.slot} out of service: ${w.cycles} contact cycles reached its ${w.socket} limit of ${w.limit}; service the contacts, then: ifpp slots reset-cycles --config ${this.config.source.file} --slot ${w.slot}`
        : w.status === 'warning'
          ? `slot ${w.slot}: ${w.cycles} of ${w.limit} contact cycles (${w.socket}); plan its maintenance`
          : resetBy !== undefined
            ? `slot ${w.slot} back in service: cycle counter reset by ${resetBy}`
            : `slot ${w.slot}: ${w.cycles} of ${w.limit} contact cycles`;
    this.bus.emit({ type: 'slot.service', t: this.now(), slot: w.slot, status: w.status, cycles: w.cycles, limit: w.limit, message, ...(resetBy !== undefined ? { resetBy } : {}) });
  }

  private onEvent(e: StationEvent): void {
    if (e.type === 'slot.result') this.lastResult.set(e.slot, e);
    else if (e.type === 'store.stock') this.stock = e.batches;
    else if (e.type === 'unit.done') {
      const r = this.lastResult.get(e.slot);
      this.lastResult.delete(e.slot);
      const u: UnitTally = { slot: e.slot, outcome: e.outcome, passFirstTime: e.passFirstTime, ...(r?.code ? { code: r.code } : {}), ...(r ? { millis: r.millis } : {}) };
      this.units++;
      this.byOutcome[e.outcome] = (this.byOutcome[e.outcome] ?? 0) + 1;
      this.run.add(u);
      this.history.add(u);
      if (isJudged(u.outcome)) this.recent.add(u.slot, u.passFirstTime);
      this.bus.emit(this.slotStats(e.slot));
    }
  }

  slotStats(slot: string): EventOf<'slot.stats'> {
    const w = this.wear(slot);
    const flag = this.recent.flags().find((f) => f.slot === slot);
    return {
      type: 'slot.stats',
      t: this.now(),
      slot,
      bridge: this.bridgeOf.get(slot) ?? '?',
      run: this.run.get(slot),
      history: this.history.get(slot),
      cycles: w.cycles,
      cycleLimit: w.limit,
      service: w.status,
      recentYield: this.recent.yieldOf(slot)?.yield ?? null,
      ...(flag ? { yieldFlag: flag.message } : {}),
    };
  }

  summary(final: boolean): EventOf<'station.summary'> {
    const t = this.now();
    const since = this.startedAt ?? t;
    const uptimeMs = Math.max(0, t - since);
    const rate = (n: number, ms: number) => (ms >= 1000 ? (n * 3_600_000) / ms : null);
    const periodMs = t - this.periodStart.t;
    const lastPeriod = { units: this.units - this.periodStart.units, ratePerHour: rate(this.units - this.periodStart.units, periodMs) };
    this.periodStart = { t, units: this.units };
    const flags = new Map(this.recent.flags().map((f) => [f.slot, f.message]));
    const slots: SummarySlotRow[] = this.config.slots
      .filter((s) => s.enabled)
      .map((s) => {
        const run = this.run.get(s.id);
        const hist = this.history.get(s.id);
        const w = this.wear(s.id);
        const flag = flags.get(s.id);
        return { slot: s.id, bridge: s.bridge, units: run.units, fpy: run.fpy, historyUnits: hist.units, historyFpy: hist.fpy, cycles: w.cycles, cycleLimit: w.limit, service: w.status, ...(flag ? { yieldFlag: flag } : {}) };
      });
    const total = this.run.total();
    return {
      type: 'station.summary',
      t,
      final,
      periodSeconds: this.config.metrics?.summaryEverySeconds ?? DEFAULTS.metrics.summaryEverySeconds,
      uptimeMs,
      units: this.units,
      ratePerHour: rate(this.units, uptimeMs),
      lastPeriod,
      fpy: total.fpy,
      byOutcome: { ...this.byOutcome },
      stock: this.stock.map((b) => ({ ...b })),
      outOfService: this.outOfService(),
      flagged: [...flags.keys()],
      slots,
    };
  }

  /** Run and history figures of every slot the config names (for tests and the CLI). */
  figures(slot: string) {
    return { run: this.run.get(slot) ?? emptyFigures(), history: this.history.get(slot) };
  }
}
