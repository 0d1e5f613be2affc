/**
 * The UI's view model: a pure fold of the station's event stream. No clocks and no I/O: every
 * time comes from event timestamps or from the `now` a selector is given, so a scripted event
 * sequence always produces the same screen (and the tests can say exactly what it is).
 *
 * Updates are structural: a slot event replaces only that slot's object, so unchanged cells keep
 * their identity and memoised components skip them (32 slots at 10 Hz must not redraw 32 cells).
 */
import { BUSY_STATES } from '../../station/events.ts';
import type { EventOf, SlotInfo, SlotState, StationEvent, StationPhase, UnitOutcome } from '../../station/events.ts';
import { OUTCOME_WORDS } from '../format.ts';

export interface ViewModelOptions {
  /** Recent events kept per slot for the detail pane (progress updates coalesce into one). */
  recentLimit: number;
  /** APDU summaries kept per slot. */
  apduLimit: number;
  /** Rolling window for the units-per-hour figure. */
  throughputWindowMs: number;
  /** No rate is shown until the station has run this long and done this many units (one early unit is not a rate). */
  minThroughputSpanMs: number;
  minThroughputUnits: number;
  /** Warn when the BPPs left over all batches fall to this or below. */
  lowStockThreshold: number;
  /** How long a `station.warning` stays in the header. */
  warningTtlMs: number;
}

export const DEFAULT_VIEW_OPTIONS: Readonly<ViewModelOptions> = {
  recentLimit: 20,
  apduLimit: 12,
  throughputWindowMs: 15 * 60_000,
  minThroughputSpanMs: 10_000,
  minThroughputUnits: 3,
  lowStockThreshold: 100,
  warningTtlMs: 5 * 60_000,
};

export interface Progress {
  bytesSent: number;
  bytesTotal: number;
  segmentsSent: number;
  segmentsTotal: number;
}

export interface ApduView {
  t: number;
  summary: string;
  sw: string;
  micros: number;
}

export interface SlotError {
  t: number;
  code: string | null;
  reason: string;
}

export type SlotEvent = Exclude<Extract<StationEvent, { slot: string }>, EventOf<'slot.stats'>>;

export interface SlotView {
  id: string;
  row: number;
  col: number;
  bridge: string;
  channel: number;
  /** A PC/SC reader slot: the reader's configured name. */
  reader?: string;
  state: SlotState;
  stateSince: number | null;
  /** Start of the current unit's cycle (or of the current retry); null when idle. */
  startedAt: number | null;
  /** Set when the cycle reached pass, fail, interrupted or skipped: the elapsed time freezes there. */
  endedAt: number | null;
  eid: string | null;
  iccid: string | null;
  batchId: string | null;
  transactionId: string | null;
  attempt: number;
  unusedKeys: number | null;
  progress: Progress | null;
  /** Why the slot failed, was interrupted or skipped its chip, in words; null otherwise. */
  reason: string | null;
  /**
   * What stopped an interrupted unit (the station's abort: operator, e-stop, guard…), when the
   * station announced one while the unit ran. `reason` then says what that did to the load.
   */
  interruptedBy: string | null;
  code: string | null;
  outcome: UnitOutcome | null;
  /** The most recent failure on this slot; survives the next unit, for the detail pane. */
  lastError: SlotError | null;
  recent: readonly SlotEvent[];
  apdus: readonly ApduView[];
  apduCount: number;
  apduMicros: number;
  /** APDUs whose status word was not a success (90 00, 61 xx, 91 xx). APDU figures are per card. */
  apduErrors: number;
  /** The slot's latest figures (run, history, wear, recent-yield flag); null before its first unit. */
  stats: EventOf<'slot.stats'> | null;
  /** Latest wear announcement (warning, out of service, back in service); null while none. */
  service: EventOf<'slot.service'> | null;
}

export interface BridgeView {
  id: string;
  connected: boolean;
  port: string | null;
  firmware: string | null;
  reason: string | null;
  since: number;
}

export interface BatchStock {
  batchId: string;
  available: number;
  total: number;
}

export interface StationWarning {
  code: string;
  message: string;
  t: number;
}

export interface Counters {
  /** Units that ended, whatever the outcome: pass + fail + interrupted + skipped. */
  done: number;
  pass: number;
  /** Real failures: every outcome but installed, interrupted and skipped. */
  fail: number;
  /** Units stopped part way (abort, e-stop, guard…): no verdict on the chip, to be re-run. */
  interrupted: number;
  /** Chips not for this station, left untouched (eidPolicy.unknownEid "skip"): not failures. */
  skipped: number;
  passFirstTime: number;
  byOutcome: Readonly<Partial<Record<UnitOutcome, number>>>;
}

export interface ViewModel {
  options: Readonly<ViewModelOptions>;
  station: { name: string; config: string; kind: string } | null;
  startedAt: number | null;
  /** Latest event time seen. */
  lastT: number;
  phase: StationPhase | null;
  /** The latest station abort (phase `aborted`): an interrupted slot names it as its cause. */
  lastAbort: { t: number; reason: string } | null;
  phaseReason: string | null;
  stoppedReason: string | null;
  prompt: string | null;
  /** Slot ids by row, then column. */
  slotOrder: readonly string[];
  slots: Readonly<Record<string, SlotView>>;
  counters: Counters;
  /** unit.done times inside the throughput window (pruned against `lastT`). */
  doneTimes: readonly number[];
  stock: readonly BatchStock[] | null;
  bridges: Readonly<Record<string, BridgeView>>;
  /** station.warning events, one per code (the latest), oldest first. */
  warnings: readonly StationWarning[];
  /** The latest station.summary (per-slot table for the summary view). */
  summary: EventOf<'station.summary'> | null;
}

export function createViewModel(options: Partial<ViewModelOptions> = {}): ViewModel {
  return {
    options: { ...DEFAULT_VIEW_OPTIONS, ...options },
    station: null,
    startedAt: null,
    lastT: 0,
    phase: null,
    lastAbort: null,
    phaseReason: null,
    stoppedReason: null,
    prompt: null,
    slotOrder: [],
    slots: {},
    counters: { done: 0, pass: 0, fail: 0, interrupted: 0, skipped: 0, passFirstTime: 0, byOutcome: {} },
    doneTimes: [],
    stock: null,
    bridges: {},
    warnings: [],
    summary: null,
  };
}

export function emptySlot(info: SlotInfo): SlotView {
  return {
    id: info.id,
    row: info.row,
    col: info.col,
    bridge: info.bridge,
    channel: info.channel,
    ...(info.reader !== undefined ? { reader: info.reader } : {}),
    state: 'idle',
    stateSince: null,
    startedAt: null,
    endedAt: null,
    eid: null,
    iccid: null,
    batchId: null,
    transactionId: null,
    attempt: 0,
    unusedKeys: null,
    progress: null,
    reason: null,
    interruptedBy: null,
    code: null,
    outcome: null,
    lastError: null,
    recent: [],
    apdus: [],
    apduCount: 0,
    apduMicros: 0,
    apduErrors: 0,
    stats: null,
    service: null,
  };
}

export function reduceAll(model: ViewModel, events: Iterable<StationEvent>): ViewModel {
  let m = model;
  for (const e of events) m = reduce(m, e);
  return m;
}

export function reduce(model: ViewModel, e: StationEvent): ViewModel {
  const m = e.t > model.lastT ? { ...model, lastT: e.t } : model;
  switch (e.type) {
    case 'station.started':
      return started(model.options, e);
    case 'station.phase': {
      const lastAbort = e.phase === 'aborted' ? { t: e.t, reason: e.reason ?? 'run aborted' } : m.lastAbort;
      return { ...m, phase: e.phase, phaseReason: e.reason ?? null, lastAbort };
    }
    case 'station.prompt':
      return { ...m, prompt: e.message };
    case 'station.warning':
      return { ...m, warnings: [...m.warnings.filter((w) => w.code !== e.code), { code: e.code, message: e.message, t: e.t }] };
    case 'station.stopped':
      return { ...m, phase: 'stopped', stoppedReason: e.reason, prompt: null };
    case 'store.stock':
      return { ...m, stock: e.batches.map((b) => ({ batchId: b.batchId, available: b.available, total: b.total })) };
    case 'bridge.connected':
      return {
        ...m,
        bridges: { ...m.bridges, [e.bridge]: { id: e.bridge, connected: true, port: e.port, firmware: e.firmware ?? null, reason: null, since: e.t } },
      };
    case 'bridge.disconnected': {
      const prev = m.bridges[e.bridge];
      return {
        ...m,
        bridges: { ...m.bridges, [e.bridge]: { id: e.bridge, connected: false, port: prev?.port ?? null, firmware: prev?.firmware ?? null, reason: e.reason, since: e.t } },
      };
    }
    case 'unit.done':
      return unitDone(m, e);
    case 'station.summary':
      return { ...m, summary: e };
    case 'slot.stats':
      return updateSlot(m, e.slot, (s) => ({ ...s, stats: e }));
    case 'slot.service':
      return updateSlot(m, e.slot, (s) => withRecent({ ...s, service: e }, e, m.options));
    default:
      return updateSlot(m, e.slot, (s) => withRecent(slotEvent(s, e, m), e, m.options));
  }
}

function started(options: Readonly<ViewModelOptions>, e: EventOf<'station.started'>): ViewModel {
  const base = createViewModel(options);
  const infos = [...e.slots].sort((a, b) => a.row - b.row || a.col - b.col || a.id.localeCompare(b.id));
  const slots: Record<string, SlotView> = {};
  for (const info of infos) slots[info.id] = emptySlot(info);
  return {
    ...base,
    station: { name: e.station, config: e.config, kind: e.kind },
    startedAt: e.t,
    lastT: e.t,
    phase: 'starting',
    slotOrder: infos.map((i) => i.id),
    slots,
  };
}

function unitDone(m: ViewModel, e: EventOf<'unit.done'>): ViewModel {
  const c = m.counters;
  const pass = e.outcome === 'installed';
  const interrupted = e.outcome === 'interrupted';
  // Not failures: a chip not for this station, or one already done (byOutcome keeps them apart).
  const skipped = e.outcome === 'skipped' || e.outcome === 'already-provisioned';
  const counters: Counters = {
    done: c.done + 1,
    pass: c.pass + (pass ? 1 : 0),
    fail: c.fail + (pass || interrupted || skipped ? 0 : 1),
    interrupted: c.interrupted + (interrupted ? 1 : 0),
    skipped: c.skipped + (skipped ? 1 : 0),
    passFirstTime: c.passFirstTime + (pass && e.passFirstTime ? 1 : 0),
    byOutcome: { ...c.byOutcome, [e.outcome]: (c.byOutcome[e.outcome] ?? 0) + 1 },
  };
  const horizon = m.lastT - m.options.throughputWindowMs;
  const doneTimes = [...m.doneTimes.filter((t) => t > horizon), e.t];
  const next = { ...m, counters, doneTimes };
  return updateSlot(next, e.slot, (s) => withRecent({ ...s, outcome: e.outcome, eid: e.eid ?? s.eid }, e, m.options));
}

/** Applies `fn` to one slot; a slot the station never announced is added on an extra row. */
function updateSlot(m: ViewModel, id: string, fn: (s: SlotView) => SlotView): ViewModel {
  const existing = m.slots[id];
  if (existing) return { ...m, slots: { ...m.slots, [id]: fn(existing) } };
  // Stray slots share one row below the configured ones, so a mis-wired station still shows them.
  let row = 1;
  let strays = 0;
  for (const sid of m.slotOrder) {
    const s = m.slots[sid];
    if (!s) continue;
    if (s.channel === STRAY_CHANNEL) strays++;
    else row = Math.max(row, s.row + 1);
  }
  const fresh = emptySlot({ id, row, col: strays + 1, bridge: '?', channel: STRAY_CHANNEL });
  return { ...m, slotOrder: [...m.slotOrder, id], slots: { ...m.slots, [id]: fn(fresh) } };
}

const STRAY_CHANNEL = -1;

const TERMINAL: ReadonlySet<SlotState> = new Set(['pass', 'fail', 'interrupted', 'skipped']);

/** Fields that belong to the card in the slot, cleared when a new card arrives. */
function clearUnit(s: SlotView): SlotView {
  return { ...s, eid: null, iccid: null, batchId: null, transactionId: null, attempt: 0, unusedKeys: null, progress: null, reason: null, interruptedBy: null, code: null, outcome: null };
}

function slotEvent(s: SlotView, e: Exclude<SlotEvent, EventOf<'unit.done' | 'slot.service'>>, m: ViewModel): SlotView {
  const o = m.options;
  switch (e.type) {
    case 'slot.state':
      return slotState(s, e, m.lastAbort);
    case 'slot.identified':
      return { ...s, eid: e.eid, unusedKeys: e.unusedKeys };
    case 'slot.bpp-chosen':
      return { ...s, eid: e.eid, batchId: e.batchId, transactionId: e.transactionId, iccid: e.iccid ?? s.iccid, attempt: e.attempt };
    case 'slot.progress':
      return { ...s, progress: { bytesSent: e.bytesSent, bytesTotal: e.bytesTotal, segmentsSent: e.segmentsSent, segmentsTotal: e.segmentsTotal } };
    case 'slot.apdu': {
      const ok = e.sw === '9000' || /^(61|91)/.test(e.sw);
      const apdus = appendCapped(s.apdus, { t: e.t, summary: e.summary, sw: e.sw, micros: e.micros }, o.apduLimit);
      return { ...s, apdus, apduCount: s.apduCount + 1, apduMicros: s.apduMicros + e.micros, apduErrors: s.apduErrors + (ok ? 0 : 1) };
    }
    case 'slot.result': {
      const base = {
        ...s,
        eid: e.eid ?? s.eid,
        iccid: e.iccid ?? s.iccid,
        transactionId: e.transactionId ?? s.transactionId,
        outcome: e.outcome,
        attempt: e.attempt,
      };
      if (e.outcome === 'installed') return base;
      const reason = e.reason ?? OUTCOME_WORDS[e.outcome];
      // A skipped chip is no error: the slot says why, the last error stays what it was.
      if (e.outcome === 'skipped') return { ...base, reason, code: e.code ?? null };
      return { ...base, reason, code: e.code ?? null, lastError: { t: e.t, code: e.code ?? null, reason } };
    }
  }
}

function slotState(s: SlotView, e: EventOf<'slot.state'>, abort: ViewModel['lastAbort']): SlotView {
  const prev = s.state;
  const base = { ...s, state: e.state, stateSince: e.t };
  if (e.state === 'idle') return { ...clearUnit(base), startedAt: null, endedAt: null };
  if (prev === 'idle' || (e.state === 'present' && prev !== 'present')) {
    // A new card: forget the previous one (its APDUs too), start its clock. The last error and
    // the recent events stay, so the detail pane can still explain what went wrong before.
    return withTerminal({ ...clearUnit(base), startedAt: e.t, endedAt: null, apdus: [], apduCount: 0, apduMicros: 0, apduErrors: 0 }, e, abort);
  }
  if (TERMINAL.has(prev) && !TERMINAL.has(e.state)) {
    // A retry of the same card: it keeps its EID, the attempt restarts the clock.
    return { ...base, progress: null, reason: null, interruptedBy: null, code: null, outcome: null, startedAt: e.t, endedAt: null };
  }
  return withTerminal(s.startedAt === null ? { ...base, startedAt: e.t } : base, e, abort);
}

function withTerminal(s: SlotView, e: EventOf<'slot.state'>, abort: ViewModel['lastAbort']): SlotView {
  if (!TERMINAL.has(e.state)) return s;
  if (e.state === 'pass') return { ...s, endedAt: e.t, reason: null, interruptedBy: null, code: null };
  if (e.state === 'skipped') return { ...s, endedAt: e.t, reason: e.reason ?? s.reason ?? OUTCOME_WORDS.skipped, interruptedBy: null, code: e.code ?? s.code };
  // The slot's own reason for an interruption is what it did to the load (e.g. "load failed
  // after the secure channel opened"); the cause is the abort the station announced while this
  // unit ran. An abort from before the unit started is not its cause.
  const interruptedBy = e.state === 'interrupted' && abort !== null && s.startedAt !== null && abort.t >= s.startedAt ? abort.reason : null;
  const reason = e.reason ?? s.reason ?? (e.state === 'interrupted' ? OUTCOME_WORDS.interrupted : e.code ?? 'failed (no reason given)');
  const code = e.code ?? s.code;
  const sameError = s.lastError !== null && s.lastError.reason === reason && s.lastError.code === code;
  return { ...s, endedAt: e.t, reason, interruptedBy, code, lastError: sameError ? s.lastError : { t: e.t, code, reason } };
}

/** Records the event in the slot's ring buffer; runs of progress updates keep only the latest. */
function withRecent(s: SlotView, e: SlotEvent, o: Readonly<ViewModelOptions>): SlotView {
  // APDUs have their own buffer; in the recent list they would push everything else out.
  if (e.type === 'slot.apdu') return s;
  const last = s.recent[s.recent.length - 1];
  const recent =
    e.type === 'slot.progress' && last?.type === 'slot.progress'
      ? [...s.recent.slice(0, -1), e]
      : appendCapped(s.recent, e, o.recentLimit);
  return { ...s, recent };
}

function appendCapped<T>(list: readonly T[], item: T, cap: number): readonly T[] {
  const next = [...list, item];
  return next.length > cap ? next.slice(next.length - cap) : next;
}

// ---- selectors ---------------------------------------------------------------------------

export function orderedSlots(m: ViewModel): SlotView[] {
  const out: SlotView[] = [];
  for (const id of m.slotOrder) {
    const s = m.slots[id];
    if (s) out.push(s);
  }
  return out;
}

/** Slots in which a load may be in flight (quitting must wait or be forced). */
export function busySlotIds(m: ViewModel): string[] {
  return m.slotOrder.filter((id) => {
    const s = m.slots[id];
    return s !== undefined && BUSY_STATES.has(s.state);
  });
}

/**
 * First-pass yield: units that passed at their first attempt over units that ended pass or fail.
 * Interrupted units are left out: an abort says nothing about the chip, and they are re-run.
 * Skipped units (chips not for this station) are left out too.
 * Null until the first pass or fail.
 */
export function firstPassYield(m: ViewModel): number | null {
  const judged = m.counters.pass + m.counters.fail;
  return judged === 0 ? null : m.counters.passFirstTime / judged;
}

/**
 * What a FAIL, INTERRUPTED or SKIPPED cell says: for an interrupted unit, what stopped it when
 * known, rather than what that did to the load (the detail pane shows both).
 */
export function slotWhy(s: SlotView): string {
  return (s.state === 'interrupted' ? s.interruptedBy ?? s.reason : s.reason) ?? '';
}

/**
 * Units done per hour over the rolling window ending at `now` (or since the start, if the
 * station has run for less than the window). Null until the station has run long enough.
 */
export function throughputPerHour(m: ViewModel, now: number): number | null {
  if (m.startedAt === null) return null;
  const span = Math.min(m.options.throughputWindowMs, now - m.startedAt);
  if (span < m.options.minThroughputSpanMs || span <= 0 || m.counters.done < m.options.minThroughputUnits) return null;
  const from = now - span;
  const n = m.doneTimes.filter((t) => t > from && t <= now).length;
  return (n * 3_600_000) / span;
}

export function uptimeMs(m: ViewModel, now: number): number | null {
  return m.startedAt === null ? null : Math.max(0, now - m.startedAt);
}

/** How long the slot has worked on its current unit (frozen once it passed or failed). */
export function slotElapsedMs(s: SlotView, now: number): number | null {
  if (s.startedAt === null) return null;
  return Math.max(0, (s.endedAt ?? now) - s.startedAt);
}

export function stockLeft(m: ViewModel): number | null {
  return m.stock === null ? null : m.stock.reduce((n, b) => n + b.available, 0);
}

export interface UiWarning {
  level: 'warn' | 'error';
  /** Stable key (React list key, tests). */
  key: string;
  text: string;
}

/**
 * What the header must warn about at `now`, most urgent first: a stopped or aborted station,
 * disconnected bridges, low stock, recent station warnings.
 */
export function activeWarnings(m: ViewModel, now: number): UiWarning[] {
  const out: UiWarning[] = [];
  if (m.phase === 'stopped') out.push({ level: 'error', key: 'phase', text: `Station stopped: ${m.stoppedReason ?? m.phaseReason ?? 'no reason given'}` });
  else if (m.phase === 'aborted') out.push({ level: 'error', key: 'phase', text: `Run aborted${m.phaseReason ? `: ${m.phaseReason}` : ''}` });
  for (const b of Object.values(m.bridges)) {
    if (!b.connected) out.push({ level: 'error', key: `bridge:${b.id}`, text: `Bridge ${b.id} disconnected: ${b.reason ?? 'no reason given'}` });
  }
  const left = stockLeft(m);
  if (left !== null && left === 0) {
    out.push({ level: 'error', key: 'stock', text: 'No BPPs left: import a batch to continue' });
  } else if (left !== null && left <= m.options.lowStockThreshold) {
    out.push({ level: 'warn', key: 'stock', text: `Low BPP stock: ${left} left (warning at ${m.options.lowStockThreshold})` });
  }
  for (const id of m.slotOrder) {
    const s = m.slots[id];
    if (s?.service?.status === 'out-of-service') out.push({ level: 'error', key: `service:${id}`, text: s.service.message });
    else if (s?.stats?.yieldFlag) out.push({ level: 'warn', key: `yield:${id}`, text: s.stats.yieldFlag });
  }
  for (const w of m.warnings) {
    if (now - w.t <= m.options.warningTtlMs) out.push({ level: 'warn', key: `station:${w.code}`, text: w.message });
  }
  return out;
}
