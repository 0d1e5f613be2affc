/**
 * The station: stores, journal, bridges, jig and slots, run as one process. It emits the event
 * stream (EventBus) and takes operator controls; it knows nothing of the UI.
 *
 * When units start is the strategy's job (strategies/: panel cycles on a panel jig with a
 * board, otherwise a loop per socket); the station chooses one and runs it.
 */
import { EventEmitter } from 'node:events';
import { StationError } from './station-error.ts';
import { refuseToRunBlind } from './stock-check.ts';
import type { StationConfig } from '../config/schema.ts';
import { EuiccStore } from '../euicc-data/euicc-store.ts';
import { EventBus, type StationEvent, type StationPhase } from '../events.ts';
import type { StationHardware } from '../hardware/hardware.ts';
import type { Jig } from '../hardware/jig.ts';
import { openStationHardware, type HardwareOptions } from '../hardware/open-hardware.ts';
import { Journal } from '../journal/journal.ts';
import { describeSequenceProblem } from '../journal/scan.ts';
import { journalPath } from '../journal/paths.ts';
import { BppState } from '../store/bpp-store.ts';
import type { Inventory } from '../inventory/inventory.ts';
import { openInventory } from '../inventory/open-inventory.ts';
import { EuiccTrust } from './euicc-trust.ts';
import { reconcileJournal } from './reconcile.ts';
import { PendingChecks } from './chip-seen-again.ts';
import type { UnitPolicy, UnitResult } from './unit-runner.ts';
import { unitPolicyFor } from './unit-policy.ts';
import { projectEuiccDialect, type EuiccDialect } from '../fpa/dialect.ts';
import { loadDialect } from '../fpa/dialect-loader.ts';
import { SlotMetrics } from '../metrics/slot-metrics.ts';
import { Insertions } from './strategies/insertions.ts';
import { resultLeds, runSlotUnit, type SlotRuntime } from './strategies/slot-unit.ts';
import { strategyFor, type StrategyHost } from './strategies/strategy.ts';

export { StationError, resultLeds };

export interface StationOpenOptions extends HardwareOptions {
  bus?: EventBus;
  /**
   * Slots and jig built by the caller (tests, the simulator). Default: openStationHardware
   * with this config and the options above. The station closes it in close().
   */
  hardware?: StationHardware;
  /** The BPP inventory built by the caller. Default: openInventory with this config. Closed in close(). */
  inventory?: Inventory;
  /**
   * Refuse to open (NOTHING_TO_LOAD) when the store has no eUICC data or no loadable BPP,
   * before anything is journaled or any device opened (`ifpp run` without --allow-empty).
   */
  requireStock?: boolean;
}

export interface RunOptions {
  /** Stop after this many units are done (any outcome, skipped included). Default: run until stopped. */
  units?: number;
}

export interface RunSummary {
  units: number;
  byOutcome: Record<string, number>;
  reason: string;
}

/** What became of an operator's retry: started now, or why not (shown to the operator). */
export interface RetryAnswer {
  started: boolean;
  message: string;
}

export class Station extends EventEmitter<{ stopped: [string] }> {
  private slots = new Map<string, SlotRuntime>();
  private phase: StationPhase = 'starting';
  private stopRequested: string | undefined;
  private stopController = new AbortController();
  private cycleController = new AbortController();
  private paused = false;
  private abortReason = '';
  private resumeWaiters: (() => void)[] = [];
  private unitsDone = 0;
  private unitTarget = Infinity;
  private byOutcome: Record<string, number> = {};
  /** Units an earlier stop left unknown, settled when their chip is identified (set by open). */
  private pending!: PendingChecks;
  /** loading.dialect, loaded at open (a module dialect is imported once). */
  private dialect: EuiccDialect = projectEuiccDialect;
  /** Insertions seen per slot (bridge CARD IN or jig presence), and who waits for the next. */
  private insertions = new Insertions();
  private inFlight = new Set<Promise<unknown>>();
  /** Contact wear, per-slot figures and summaries (set by open). */
  metrics!: SlotMetrics;

  private constructor(
    readonly config: StationConfig,
    readonly bus: EventBus,
    private readonly inventory: Inventory,
    private readonly euicc: EuiccStore,
    private readonly journal: Journal,
    private readonly hardware: StationHardware,
  ) {
    super();
  }

  private get jig(): Jig {
    return this.hardware.jig;
  }

  static async open(config: StationConfig, opts: StationOpenOptions = {}): Promise<Station> {
    const bus = opts.bus ?? new EventBus();
    const dialect = await loadDialect(config.loading.dialect);
    const { journal, existing } = await Journal.open(journalPath(config));
    let hardware = opts.hardware;
    let inventory = opts.inventory;
    let euicc: EuiccStore | undefined;
    try {
      inventory ??= await openInventory(config, { journalPath: journal.path, existing: existing.records });
      // After the inventory: a line station copies the line's eUICC data into its store first.
      euicc = EuiccStore.open(config.store, { lookForNew: true });
      if (opts.requireStock) refuseToRunBlind(config, inventory, euicc);
      const rec = await reconcileJournal(existing.records, journal, inventory);
      hardware ??= await openStationHardware(config, opts);
      const st = new Station(config, bus, inventory, euicc, journal, hardware);
      st.dialect = dialect;
      st.pending = new PendingChecks(rec.pending, {
        journal,
        inventory,
        trust: new EuiccTrust(euicc),
        bus,
        endOfProduction: unitPolicyFor(config, dialect).endOfProduction,
      }, rec.unfinished);
      for (const p of existing.sequenceProblems) {
        bus.emit({ type: 'station.warning', t: Date.now(), code: 'JOURNAL_SEQUENCE', message: `journal ${describeSequenceProblem(p)}; new records continue above the highest seq` });
      }
      st.metrics = SlotMetrics.open(config, existing.records, bus, { journal: (type, fields) => journal.append(type, fields) });
      for (const s of rec.settled) {
        bus.emit({ type: 'station.warning', t: Date.now(), code: 'RECONCILED', message: `unit ${s.unit.slice(0, 8)} from the last run: ${s.outcome} (${s.how})` });
      }
      inventory.onNotice?.((n) => bus.emit({ type: 'station.warning', t: Date.now(), code: n.code, message: n.message }));
      st.wire();
      return st;
    } catch (e) {
      await hardware?.close().catch(() => undefined);
      await journal.close();
      await inventory?.close().catch(() => undefined);
      euicc?.close();
      throw e;
    }
  }

  private emit_(e: StationEvent): void {
    this.bus.emit(e);
  }

  private setPhase(phase: StationPhase, reason?: string): void {
    this.phase = phase;
    this.emit_({ type: 'station.phase', t: Date.now(), phase, ...(reason ? { reason } : {}) });
  }

  private wire(): void {
    const c = this.config;
    for (const s of c.slots) {
      if (!s.enabled) continue;
      const card = this.hardware.slots.get(s.id);
      if (!card) throw new StationError('STATION_SLOT_MISSING', `the hardware has no slot ${s.id}`, { hint: 'every enabled slot of the config needs a slot from the hardware providers' });
      this.slots.set(s.id, { cfg: s, card, busy: false });
      // With a board, presence comes from its inputs; without one, from the slot's card-detect.
      card.on('inserted', () => {
        if (!this.jig.hasBoard) this.insertions.inserted(s.id);
      });
    }
    for (const src of this.hardware.sources) {
      src.on('disconnected', (e) => this.emit_({ type: 'bridge.disconnected', t: Date.now(), bridge: src.id, reason: e.reason }));
      src.on('connected', (info) => this.emit_({ type: 'bridge.connected', t: Date.now(), bridge: src.id, port: src.port, ...(info.firmware !== undefined ? { firmware: info.firmware } : {}) }));
    }
    this.jig.on('slot-present', (e) => this.insertions.inserted(e.slot));
    // A unit taken out of its socket takes its result with it: the lamps go dark.
    this.jig.on('slot-removed', (e) => {
      const s = this.slots.get(e.slot);
      if (s && !s.busy) this.jig.setSlotLeds(e.slot, 'off');
    });
    this.jig.on('prompt', (text) => this.emit_({ type: 'station.prompt', t: Date.now(), message: text }));
    this.jig.on('abort', (a) => {
      // The jig's error is the abort reason: every unit it cuts names it (code, message, hint).
      this.cycleController.abort(a.error);
      this.setPhase('aborted', a.error.message);
      void this.powerOffAll();
    });
    this.jig.on('lost', (e) => this.emit_({ type: 'station.warning', t: Date.now(), code: e.code, message: e.message }));
    this.jig.on('board-back', () =>
      this.emit_({ type: 'station.warning', t: Date.now(), code: 'JIG_BOARD_BACK', message: 'jig board connected again: the station resets once the e-stop is released and the guard closed' }),
    );
    // Without panel cycles (sockets) nothing else clears a trip: reset as soon as it is safe.
    this.jig.on('safety-clear', () => {
      if (this.config.kind === 'panel-jig') return;
      try {
        this.jig.resetAfterAbort();
        if (this.phase === 'aborted' && !this.paused) this.setPhase('running');
      } catch {
        /* the prompt says what is still unsafe */
      }
    });
    this.bus.on((e) => {
      if (e.type === 'unit.done') {
        this.unitsDone++;
        this.byOutcome[e.outcome] = (this.byOutcome[e.outcome] ?? 0) + 1;
        if (this.unitsDone >= this.unitTarget) this.requestStop(`${this.unitsDone} units done`);
      }
    });
  }

  private policy(): UnitPolicy {
    return unitPolicyFor(this.config, this.dialect);
  }

  private emitStock(): void {
    const batches = [...this.inventory.counts()].map(([batchId, c]) => ({
      batchId,
      available: c[BppState.available] + c[BppState.failedBeforeSecureChannel],
      total: Object.values(c).reduce((a, b) => a + b, 0),
    }));
    this.emit_({ type: 'store.stock', t: Date.now(), batches });
  }

  // ------------------------------------------------------------------ controls

  /** Operator controls, in the shape the UI expects. */
  get controls() {
    return {
      start: () => this.resume(),
      pause: () => this.pause(),
      resume: () => this.resume(),
      abort: () => this.abort('operator abort'),
      retry: (slotId: string): Promise<RetryAnswer> => this.retry(slotId),
      quit: (force: boolean) => {
        this.quit(force);
      },
    };
  }

  pause(): void {
    if (this.paused) return;
    this.paused = true;
    this.setPhase('paused', 'no new units start until resumed');
  }

  resume(): void {
    if (!this.paused) return;
    this.paused = false;
    const w = this.resumeWaiters;
    this.resumeWaiters = [];
    for (const f of w) f();
    this.setPhase('running');
  }

  /** Stops every slot now; no new unit starts until the operator resumes (s). */
  abort(reason: string): void {
    this.abortReason = reason;
    this.cycleController.abort(reason);
    void this.powerOffAll();
    if (!this.stopRequested) this.paused = true;
    this.setPhase('aborted', reason);
  }

  /**
   * The operator's retry of one slot: it runs now when the chip is in the slot, or the answer
   * says why not (and what happens instead). A panel jig loads slots only as a panel.
   */
  async retry(slotId: string): Promise<RetryAnswer> {
    const s = this.slots.get(slotId);
    const no = (message: string): RetryAnswer => ({ started: false, message });
    if (!s) return no(`no slot ${slotId} in this station`);
    if (this.stopRequested) return no('the station is stopping: nothing new starts');
    if (s.busy) return no(`${slotId} is busy: its unit is still running`);
    const last = s.lastResult?.outcome;
    if (last === 'installed' || last === 'skipped') return no(`${slotId}: nothing to retry (its last unit was ${last})`);
    if (this.config.kind === 'panel-jig' && this.jig.hasBoard) {
      return no(`${slotId} is not loaded on its own on a panel jig: leave the chip in and start the next panel (every occupied slot is loaded)`);
    }
    if (this.paused) return no(`the station is ${this.phase === 'aborted' ? 'aborted' : 'paused'}: press s to go on, then r`);
    const present = this.jig.hasBoard ? this.jig.presence(slotId) === true : await s.card.present();
    if (!present) return no(`no chip in ${slotId}: it is loaded when one is inserted`);
    if (s.busy || this.stopRequested) return no(`${slotId} is busy: its unit is still running`);
    if (this.cycleController.signal.aborted) this.cycleController = new AbortController();
    if (!this.contact(s)) return no(`${slotId} is out of service (contact cycle limit)`);
    void this.track(this.runOne(s));
    return { started: true, message: `retrying ${slotId} now` };
  }

  /** Refuses (returns false) while loads are in flight unless forced. */
  quit(force: boolean): boolean {
    const busy = [...this.slots.values()].filter((s) => s.busy).map((s) => s.cfg.id);
    if (busy.length && !force) {
      // The UI may have seen no slot busy a moment ago: say why nothing stops.
      this.emit_({ type: 'station.warning', t: Date.now(), code: 'QUIT_REFUSED', message: `quit refused: ${busy.length} load(s) in flight (${busy.join(', ')}); q again or Q forces` });
      return false;
    }
    if (busy.length) this.abort('forced quit');
    this.requestStop(force ? 'operator forced quit' : 'operator quit');
    return true;
  }

  requestStop(reason: string): void {
    if (this.stopRequested) return;
    this.stopRequested = reason;
    this.stopController.abort(reason);
    this.resume();
    this.insertions.wakeAll();
  }

  // ------------------------------------------------------------------ running

  private track<T>(p: Promise<T>): Promise<T> {
    this.inFlight.add(p);
    void p.finally(() => this.inFlight.delete(p));
    return p;
  }

  private async waitWhilePaused(): Promise<void> {
    while (this.paused && !this.stopRequested) await new Promise<void>((r) => this.resumeWaiters.push(r));
  }

  /**
   * A unit came into contact with the slot (clamp closed on it, or inserted): counts the contact
   * cycle. A slot out of service (its cycle limit reached) runs nothing: it says so, and both
   * its lamps stay lit until its counter is reset.
   */
  private contact(s: SlotRuntime): boolean {
    if (this.metrics.contact(s.cfg.id)) return true;
    const w = this.metrics.wear(s.cfg.id);
    this.emit_({ type: 'slot.state', t: Date.now(), slot: s.cfg.id, state: 'interrupted', code: 'SLOT_OUT_OF_SERVICE', reason: `slot out of service (${w.cycles}/${w.limit} contact cycles): unit not loaded, move it to another slot` });
    this.jig.setSlotLeds(s.cfg.id, 'both');
    return false;
  }

  /** One unit on one slot, with LEDs, power and the pending-check for chips seen again. */
  private runOne(s: SlotRuntime): Promise<UnitResult | undefined> {
    return runSlotUnit(s, {
      jig: this.jig,
      emit: (e) => this.emit_(e),
      unitDeps: (slot) => ({
        inventory: this.inventory,
        trust: new EuiccTrust(this.euicc),
        journal: this.journal,
        bus: this.bus,
        policy: this.policy(),
        signal: this.cycleController.signal,
        seen: (eid, fpa) => this.pending.settleFrom(eid, fpa, slot.cfg.id),
      }),
      afterUnit: () => this.emitStock(),
    });
  }

  /** What the running strategy may use of the station. */
  private strategyHost(): StrategyHost {
    const st = this; // for the getters: they read the station's state when asked
    return {
      jig: this.jig,
      slots: [...this.slots.values()],
      get stopRequested() {
        return st.stopRequested;
      },
      stopSignal: this.stopController.signal,
      insertions: this.insertions,
      get abortReason() {
        return st.abortReason;
      },
      waitWhilePaused: () => this.waitWhilePaused(),
      newCycle: () => {
        this.cycleController = new AbortController();
      },
      cycleAborted: () => this.cycleController.signal.aborted,
      setPhase: (phase, reason) => this.setPhase(phase, reason),
      warn: (code, message) => this.emit_({ type: 'station.warning', t: Date.now(), code, message }),
      contact: (s) => this.contact(s),
      runOne: (s) => this.track(this.runOne(s)),
    };
  }

  async run(opts: RunOptions = {}): Promise<RunSummary> {
    this.unitTarget = opts.units ?? Infinity;
    const c = this.config;
    this.emit_({
      type: 'station.started',
      t: Date.now(),
      station: c.name,
      config: c.source.file,
      kind: c.kind,
      slots: c.slots
        .filter((s) => s.enabled)
        .map((s) => {
          const reader = s.reader === undefined ? undefined : c.readers?.find((r) => r.id === s.reader)?.name;
          return { id: s.id, row: s.row, col: s.col, bridge: s.bridge, channel: s.channel, ...(reader !== undefined ? { reader } : {}) };
        }),
    });
    for (const src of this.hardware.sources) {
      this.emit_({ type: 'bridge.connected', t: Date.now(), bridge: src.id, port: src.port, ...(src.firmware ? { firmware: src.firmware } : {}) });
    }
    this.emitStock();
    await this.journal.append('station.start', { station: c.name, config: c.source.file });
    await this.metrics.start();
    for (const id of this.metrics.outOfService()) if (this.slots.has(id)) this.jig.setSlotLeds(id, 'both');
    await strategyFor(c, this.jig)(this.strategyHost());
    while (this.inFlight.size) await Promise.allSettled([...this.inFlight]);
    const reason = this.stopRequested ?? 'finished';
    this.metrics.stop();
    this.setPhase('stopped', reason);
    this.emit_({ type: 'station.stopped', t: Date.now(), reason });
    await this.journal.append('station.stop', { station: c.name, config: c.source.file, reason });
    this.emit('stopped', reason);
    return { units: this.unitsDone, byOutcome: { ...this.byOutcome }, reason };
  }

  private async powerOffAll(): Promise<void> {
    await Promise.allSettled([...this.slots.values()].map((s) => s.card.powerOff()));
  }

  get currentPhase(): StationPhase {
    return this.phase;
  }

  async close(): Promise<void> {
    this.requestStop('closing');
    this.metrics.stop();
    await this.powerOffAll();
    await this.hardware.close().catch(() => undefined);
    await this.journal.close();
    await this.inventory.close();
    this.euicc.close();
  }
}
